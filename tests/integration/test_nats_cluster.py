"""The replicated bus: services connected to every seed of a three-node NATS cluster whose
streams are kept three ways carry on when a node is killed; no run is lost or run twice."""

import asyncio
import json
import signal
import subprocess
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from boxops.nats_cluster import NatsCluster
from shared.bus import EVENTS, STREAMS
from shared.queries import RUNS_LIST
from shared.service import declare_streams
from shared.settings import BoxopsSettings
from tests.conftest import eventually, free_port
from tests.integration.processes import answers, start_service

RUNS = 300
SERVICES = ("scheduler", "executor", "gateway")


async def test_streams_are_kept_by_every_node_of_the_cluster(nats_cluster: NatsCluster) -> None:
    await declare_streams(BoxopsSettings(nats_url=nats_cluster.url, nats_replicas=3))
    client = await nats.connect(nats_cluster.url.split(","))
    try:
        js = client.jetstream()
        for stream in STREAMS:
            info = await js.stream_info(stream.name)
            assert info.config.num_replicas == 3
            assert info.cluster and info.cluster.leader
            assert len(info.cluster.replicas or []) == 2  # the leader's two followers
    finally:
        await client.close()


async def per_run(client: nats.NATS, subject: str) -> Counter[str]:
    """How many messages of `subject` the events stream holds for each run."""
    subscription = await client.jetstream().pull_subscribe(subject, stream=EVENTS.name)
    counts: Counter[str] = Counter()
    while True:
        try:
            messages = await subscription.fetch(500, timeout=2)
        except TimeoutError:
            await subscription.unsubscribe()
            return counts
        for message in messages:
            counts[json.loads(message.data)["run_id"]] += 1
            await message.ack()


async def events_leader(client: nats.NATS, cluster: NatsCluster) -> int:
    """The index of the node that leads the events stream: the one whose loss hurts most."""
    info = await client.jetstream().stream_info(EVENTS.name)
    assert info.cluster
    return [node.name for node in cluster.nodes].index(info.cluster.leader or "")


async def submit(http: httpx.AsyncClient) -> str | None:
    """POST a run of `true`; its id, or None if the gateway could not take it."""
    response = await http.post("/v1/runs", json={"command": ["true"]}, timeout=60)
    return str(response.json()["id"]) if response.status_code == 202 else None


def start_services(
    cluster: NatsCluster, home: Path, port: int, *, registry: bool = False, heartbeat_s: float = 1
) -> list[subprocess.Popen[bytes]]:
    """Scheduler, executor and gateway (and the registry) on SQLite, given every node."""
    url = cluster.url

    def db(name: str) -> str:
        return f"sqlite+aiosqlite:///{home / f'{name}.db'}"

    processes = [
        start_service("scheduler", home, nats_url=url, nats_replicas=3, db_url=db("s")),
        start_service(
            "executor",
            home,
            nats_url=url,
            nats_replicas=3,
            executor_id="ex",
            slots=8,
            heartbeat_s=heartbeat_s,
        ),
        start_service("gateway", home, nats_url=url, nats_replicas=3, port=port),
    ]
    if registry:
        processes.append(
            start_service("registry", home, nats_url=url, nats_replicas=3, db_url=db("r"))
        )
    return processes


async def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)


@pytest.mark.timeout(600)
async def test_every_run_completes_once_across_a_node_killed_mid_burst(
    nats_cluster: NatsCluster, tmp_path: Path
) -> None:
    port = free_port()
    # A stream's new leader takes seconds to elect on a loaded machine, and the scheduler
    # counts an executor lost after 3 heartbeats unheard meanwhile: heartbeats of 5 s.
    processes = start_services(nats_cluster, tmp_path / "home", port, heartbeat_s=5)
    client = await nats.connect(nats_cluster.url.split(","))
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
    try:
        for service in SERVICES:
            await eventually(partial(answers, client, service), timeout=60)
        victim = nats_cluster.nodes[await events_leader(client, nats_cluster)]
        accepted: list[str] = []
        refused = 0
        for number in range(RUNS):
            if number == RUNS // 3:
                nats_cluster.kill(victim)  # the events stream's leader, mid-burst
            if number == 2 * RUNS // 3:
                nats_cluster.start(victim)
            run_id = await submit(http)
            if run_id is None:
                refused += 1
            else:
                accepted.append(run_id)
        await nats_cluster.ready()

        seen: list[Counter[str]] = []

        async def all_completed() -> bool:
            reply = await client.request(RUNS_LIST, json.dumps({"limit": 1000}).encode(), 10)
            runs = json.loads(reply.data)["result"]
            seen.append(Counter(run["state"] for run in runs if run["id"] in accepted))
            return seen[-1]["completed"] == len(accepted)

        try:
            await eventually(all_completed, timeout=240, interval=0.5)
        finally:
            print("accepted", len(accepted), "refused", refused, "states", seen[-1:])
        completed = await per_run(client, "run.completed")
        started = await per_run(client, "executor.run.started")
        assert all(completed[run_id] == 1 for run_id in accepted), completed
        assert all(started[run_id] == 1 for run_id in accepted), started
        assert refused == 0
    finally:
        await http.aclose()
        await client.close()
        await stop(processes)


def component(name: str, command: str) -> str:
    return f"kind: component\nname: {name}\ncommand: [sh, -c, '{command}']\n"


PIPELINE = """
kind: pipeline
name: chain
steps:
  first: {component: quick}
  middle: {component: slow, after: [first]}
  last: {component: quick, after: [middle]}
"""


async def register(http: httpx.AsyncClient, kind: str, text: str) -> None:
    headers = {"content-type": "application/yaml"}
    response = await http.post(f"/v1/{kind}", content=text, headers=headers, timeout=60)
    assert response.status_code in (200, 201), response.text


@pytest.mark.timeout(600)
async def test_a_pipeline_completes_across_a_whole_cluster_restart(
    nats_cluster: NatsCluster, tmp_path: Path
) -> None:
    port = free_port()
    # The scheduler counts an executor lost after 3 heartbeats unheard, even while the bus
    # is down: heartbeats of 10 s outlast the restart.
    home = tmp_path / "home"
    processes = start_services(nats_cluster, home, port, registry=True, heartbeat_s=10)
    client = await nats.connect(nats_cluster.url.split(","))
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
    try:
        for service in (*SERVICES, "registry"):
            await eventually(partial(answers, client, service), timeout=60)
        await register(http, "components", component("quick", "true"))
        await register(http, "components", component("slow", "sleep 3"))
        await register(http, "pipelines", PIPELINE)
        response = await http.post("/v1/runs", json={"pipeline": "chain"}, timeout=60)
        assert response.status_code == 202, response.text
        run_id = response.json()["id"]

        async def step_running(name: str) -> bool:
            run = (await http.get(f"/v1/runs/{run_id}", timeout=30)).json()
            return any(s["step"] == name and s["state"] == "running" for s in run["steps"])

        await eventually(partial(step_running, "middle"), timeout=120, interval=0.1)
        for node in nats_cluster.nodes:  # the whole bus gone while the step runs
            nats_cluster.kill(node)
        for node in nats_cluster.nodes:
            nats_cluster.start(node)
        await nats_cluster.ready()

        async def ended() -> dict[str, Any] | None:
            response = await http.get(f"/v1/runs/{run_id}", timeout=30)
            run: dict[str, Any] = response.json() if response.status_code == 200 else {}
            return run if run.get("state") in ("completed", "failed", "aborted") else None

        run = await eventually(ended, timeout=180, interval=0.5)
        assert isinstance(run, dict)
        assert run["state"] == "completed", run
        assert {s["step"]: s["state"] for s in run["steps"]} == dict.fromkeys(
            ("first", "middle", "last"), "completed"
        )
    finally:
        await http.aclose()
        await client.close()
        await stop(processes)
