"""The replicated bus: services connected to every seed of a three-node NATS cluster whose
streams are kept three ways carry on when a node is killed; no run is lost or run twice."""

import asyncio
import json
import signal
import subprocess
from collections import Counter
from functools import partial
from pathlib import Path

import httpx
import nats
import pytest

from shared.bus import EVENTS, STREAMS
from shared.queries import RUNS_LIST
from shared.service import declare_streams
from shared.settings import BoxopsSettings
from tests.conftest import eventually, free_port
from tests.integration.nats_cluster import NatsCluster
from tests.integration.processes import answers, start_service

RUNS = 150
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


def start_services(cluster: NatsCluster, home: Path, port: int) -> list[subprocess.Popen[bytes]]:
    url, db = cluster.url, f"sqlite+aiosqlite:///{home / 's.db'}"
    return [
        start_service("scheduler", home, nats_url=url, nats_replicas=3, db_url=db),
        start_service("executor", home, nats_url=url, nats_replicas=3, executor_id="ex", slots=8),
        start_service("gateway", home, nats_url=url, nats_replicas=3, port=port),
    ]


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
    processes = start_services(nats_cluster, tmp_path / "home", port)
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
