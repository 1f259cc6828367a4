"""Scheduler figures.

- 2,000 queued runs, `run.requested` → `run.dispatched` throughput, on SQLite and on
  PostgreSQL: the scheduler alone (its own process), placing onto an executor that
  heartbeats a large capacity and runs nothing, so only the scheduler is measured;
- a 10-step sequential pipeline of no-op steps on the embedded stack: wall time from the
  request to the pipeline's run.completed, minus the steps' own time.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats

from bench.embedded import connect, embedded, free_port
from bench.triggers import _fresh_pg_database
from boxops.home import api_token
from boxops.stack import _wait_port, nats_binary

QUEUED = 2000
STEPS = 10


async def main() -> None:
    await _throughput("sqlite", None)
    await _throughput("postgres", await _fresh_pg_database())
    await _pipeline_overhead()


async def _throughput(label: str, db_url: str | None) -> None:
    with _scheduler_alone(db_url) as url:
        await _measure(label, url)


@contextmanager
def _scheduler_alone(db_url: str | None) -> Iterator[str]:
    """A nats-server and `python -m services.scheduler`, in a temporary home."""
    home = Path(tempfile.mkdtemp())
    port = free_port()
    server = subprocess.Popen(
        [nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(home / "nats")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {"BOXOPS_HOME": str(home), "BOXOPS_NATS_URL": f"nats://127.0.0.1:{port}"}
    if db_url:
        env["BOXOPS_DB_URL"] = db_url
    log = (home / "scheduler.log").open("ab")
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "services.scheduler"], env=env, stdout=log, stderr=log
    )
    try:
        _wait_port(port)
        yield env["BOXOPS_NATS_URL"]
    finally:
        scheduler.terminate()
        scheduler.wait(30)
        server.terminate()
        server.wait(10)
        shutil.rmtree(home, ignore_errors=True)


async def _measure(label: str, url: str) -> None:
    client = await _connect(url)
    js = client.jetstream()
    await _until_healthy(client)
    dispatched = 0
    done = asyncio.Event()

    async def on_dispatched(_: nats.aio.msg.Msg) -> None:
        nonlocal dispatched
        dispatched += 1
        if dispatched == QUEUED:
            done.set()

    await client.subscribe("run.dispatched.bench-sink", cb=on_dispatched)
    beat = {
        "executor_id": "bench-sink",
        "slots": 1_000_000,
        "capacity": {"cpu": 1e6, "memory_mb": 10**9, "gpu": 0},
        "at": datetime.now(UTC).isoformat(),
    }
    await js.publish("executor.heartbeat", json.dumps(beat).encode())
    await asyncio.sleep(0.5)
    began = time.perf_counter()
    acks = [
        await js.publish_async(
            "run.requested", json.dumps({"run_id": f"r{i}", "command": ["true"]}).encode()
        )
        for i in range(QUEUED)
    ]
    await asyncio.gather(*acks)
    keep_alive = asyncio.create_task(_heartbeats(js, beat))
    await asyncio.wait_for(done.wait(), 300)
    took = time.perf_counter() - began
    keep_alive.cancel()
    await client.close()
    label = f"{QUEUED} queued runs → dispatched ({label})"
    print(f"{label:<40} {QUEUED / took:8.0f} runs/s  ({took:.2f} s)")


async def _heartbeats(js: nats.js.JetStreamContext, beat: dict[str, object]) -> None:
    while True:
        await asyncio.sleep(1)
        beat["at"] = datetime.now(UTC).isoformat()
        await js.publish("executor.heartbeat", json.dumps(beat).encode())


async def _connect(url: str) -> nats.NATS:
    for _ in range(100):
        try:
            return await nats.connect(url)
        except Exception:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"no NATS at {url}")


async def _until_healthy(client: nats.NATS) -> None:
    for _ in range(300):
        try:
            reply = await client.request("svc.scheduler.health", b"{}", timeout=0.5)
            if json.loads(reply.data)["status"] == "ok":
                return
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
            pass  # not up yet
        await asyncio.sleep(0.1)
    raise RuntimeError("the scheduler did not start")


def _pipeline_spec() -> str:
    lines = ["kind: pipeline", "name: ten-steps", "steps:"]
    for i in range(STEPS):
        after = f", after: [s{i - 1}]" if i else ""
        lines.append(f"  s{i}: {{component: noop{after}}}")
    return "\n".join(lines) + "\n"


async def _pipeline_overhead() -> None:
    with embedded() as (home, state, _):
        headers = {"Authorization": f"Bearer {api_token(home)}"}
        async with httpx.AsyncClient(
            base_url=state.gateway_url, headers=headers, timeout=30
        ) as http:
            yaml = {"content-type": "application/yaml"}
            noop = "kind: component\nname: noop\ncommand: ['true']\n"
            (await http.post("/v1/components", content=noop, headers=yaml)).raise_for_status()
            spec = _pipeline_spec()
            (await http.post("/v1/pipelines", content=spec, headers=yaml)).raise_for_status()
            client = await connect(home, state.nats_url)
            completed: asyncio.Queue[tuple[str, float]] = asyncio.Queue()

            async def on_completed(msg: nats.aio.msg.Msg) -> None:
                await completed.put((json.loads(msg.data)["run_id"], time.time()))

            await client.subscribe("run.completed", cb=on_completed)
            began = time.time()
            response = await http.post("/v1/runs", json={"pipeline": "ten-steps"})
            run_id = response.json()["id"]
            while True:
                finished, at = await asyncio.wait_for(completed.get(), 60)
                if finished == run_id:
                    break
            run = (await http.get(f"/v1/runs/{run_id}")).json()
            own = 0.0
            for step in run["steps"]:
                child = (await http.get(f"/v1/runs/{step['run_id']}")).json()
                start = next(t["at"] for t in child["history"] if t["state"] == "running")
                end = child["history"][-1]["at"]
                own += _seconds(end) - _seconds(start)
            await client.close()
    wall = at - began
    label = f"{STEPS}-step no-op pipeline: overhead"
    print(f"{label:<40} {wall - own:8.2f} s  (wall {wall:.2f} s, steps {own:.2f} s)")


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()
