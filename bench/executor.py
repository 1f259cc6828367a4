"""The executor's figures, on the embedded stack (`boxops up`: nats-server and each service
its own process):

- local backend: dispatch → process started (the executor's start report), and dispatch →
  the command runs (the time `date` prints, as its first instruction: in the sandbox, after
  bubblewrap has made it); `BOXOPS_LOCAL_SANDBOX=false` measures them without the sandbox;
- log line → visible to a follower: on the log subject (a live follower), and through
  GET /v1/runs/{id}/logs polled every 0.2 s as `boxops runs logs -f` does;
- SDK metric throughput from one black box: points accepted by the gateway (every batch
  answered 2xx, so in JetStream: the black box's `boxops.flush()` returned) and points
  recorded (stored by the scheduler) per second, and the CPU time each process spent a
  point (from /proc, Linux only: steadier than the rates on a shared machine);
- docker backend (if a daemon answers): dispatch → container started for busybox;
- the sampling of live runs (`bench/sampler.py`): CPU per reading, share of a core per run.

`BENCH_EXECUTOR=sdk python -m bench executor` runs only the SDK figures,
`BENCH_EXECUTOR=start` only the local backend's start (and the sampler's cost),
`BENCH_EXECUTOR=sampler` only the sampler's cost.
"""

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.aio.msg import Msg

from bench.embedded import connect
from bench.sampler import sampler_overhead
from bench.stats import cpu_s, summary
from boxops.home import api_token
from boxops.stack import Stack, free_port
from services.executor.settings import ExecutorSettings
from shared.bus import new_id, now
from shared.events import RunDispatched

STARTS = 200
DOCKER_STARTS = 30
LINES = 100
POINTS = 200_000
EXECUTOR = ExecutorSettings(executor_id=socket.gethostname()).executor_id  # as `boxops up`
SANDBOXED = ExecutorSettings().local_sandbox  # BOXOPS_LOCAL_SANDBOX, as `boxops up` reads it


async def main() -> None:
    if os.environ.get("BENCH_EXECUTOR") == "sampler":
        sampler_overhead()
        return
    with tempfile.TemporaryDirectory() as directory:
        async with _stack(Path(directory)) as (nc, http, pids):
            if os.environ.get("BENCH_EXECUTOR") == "sdk":
                await _sdk_throughput(http, Path(directory), pids)
                return
            if os.environ.get("BENCH_EXECUTOR") == "start":
                await _dispatch_to_start(nc, "local", STARTS)
                sampler_overhead()
                return
            await _dispatch_to_start(nc, "local", STARTS)
            sampler_overhead()
            await _log_latency(nc, http)
            await _sdk_throughput(http, Path(directory), pids)
            await _dispatch_to_start(nc, "docker", DOCKER_STARTS)


@contextlib.asynccontextmanager
async def _stack(
    home: Path,
) -> AsyncIterator[tuple[nats.NATS, httpx.AsyncClient, dict[str, int]]]:
    """The embedded stack (`boxops up`): every service its own process, as users run it."""
    stack = Stack(home, free_port(), report=lambda _: None)
    await asyncio.to_thread(stack.start)  # it runs its own loop to declare the streams
    try:
        await stack.wait_healthy()
        nc = await connect(home, stack.nats_url)
        headers = {"Authorization": f"Bearer {api_token(home)}"}
        http = httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30)
        try:
            yield nc, http, {child.name: child.pid for child in stack.children if child.pid}
        finally:
            await http.aclose()
            await nc.close()
    finally:
        stack.stop()


async def _dispatch_to_start(nc: nats.NATS, backend: str, n: int) -> None:
    started: dict[str, asyncio.Future[datetime]] = {}
    ran: dict[str, asyncio.Future[float]] = {}
    loop = asyncio.get_running_loop()
    subscriptions = [
        await nc.subscribe(
            "executor.run.started", cb=_settle(started, lambda b: datetime.fromisoformat(b["at"]))
        ),
        await nc.subscribe("log.*", cb=_settle(ran, lambda b: float(b["lines"][0]["line"]))),
    ]
    js = nc.jetstream()
    local = backend == "local"
    image = None if local else "boxops-test/busybox"
    command = ["date", "+%s.%N"] if local else ["true"]
    latencies, running = [], []
    for _ in range(n):
        run = RunDispatched(
            run_id=new_id(),
            state="pending",
            at=now(),
            executor_id=EXECUTOR,
            command=command,
            backend=backend,
            image=image,
        )
        started[run.run_id] = loop.create_future()
        ran[run.run_id] = loop.create_future()
        body = run.model_dump_json().encode()
        sent = time.time()
        await js.publish(run.nats_subject(), body, headers={"Nats-Msg-Id": run.run_id})
        try:
            at = await asyncio.wait_for(started[run.run_id], 30)
            if local:
                running.append(await asyncio.wait_for(ran[run.run_id], 30) - sent)
        except TimeoutError:
            print(f"{backend}: no start report or output within 30 s (is the backend offered?)")
            break
        latencies.append(at.timestamp() - sent)
    for subscription in subscriptions:
        await subscription.unsubscribe()
    name = f"{backend} ({'sandboxed' if SANDBOXED else 'unsandboxed'})" if local else backend
    if latencies:
        print(summary(f"{name}: dispatch → process started", latencies))
    if running:
        print(summary(f"{name}: dispatch → command runs", running))


def _settle(
    futures: dict[str, asyncio.Future[Any]], value: Callable[[dict[str, Any]], Any]
) -> Callable[[Msg], Awaitable[None]]:
    """A callback that resolves the future of the message's run with a value of its body."""

    async def on_message(msg: Msg) -> None:
        body = json.loads(msg.data)
        future = futures.get(body["run_id"])
        if future and not future.done():
            future.set_result(value(body))

    return on_message


FOLLOWED = """
import sys, time
for i in range({n}):
    print(f"{{time.time():.6f}}", flush=True)
    time.sleep(0.05)
"""


async def _log_latency(nc: nats.NATS, http: httpx.AsyncClient) -> None:
    code = textwrap.dedent(FOLLOWED.format(n=LINES))
    run_id = (await http.post("/v1/runs", json={"command": [sys.executable, "-c", code]})).json()[
        "id"
    ]
    live: list[float] = []

    async def on_chunk(msg: Msg) -> None:
        seen = time.time()
        live.extend(seen - float(x["line"]) for x in json.loads(msg.data)["lines"])

    subscription = await nc.subscribe(f"log.{run_id}", cb=on_chunk)
    polled: list[float] = []
    shown = 0
    while True:  # what `boxops runs logs -f` does
        lines = (await http.get(f"/v1/runs/{run_id}/logs")).json()["lines"]
        seen = time.time()
        polled.extend(seen - float(x["line"]) for x in lines[shown:])
        shown = len(lines)
        if shown >= LINES:
            break
        await asyncio.sleep(0.2)
    await subscription.unsubscribe()
    print(summary("log line → seen on log.<run> (live)", live))
    print(summary("log line → seen by logs -f (0.2 s poll)", polled))


SDK_RUN = """
import time, boxops
print(f"{{time.time():.6f}}", flush=True)
for i in range({n}):
    boxops.log_metric("loss", 1.0 / (i + 1), step=i)
print(f"{{time.time():.6f}}", flush=True)
boxops.flush()
print(f"{{time.time():.6f}}", flush=True)
print(f"{{time.process_time():.6f}}", flush=True)
"""


async def _when(count: Callable[[], Awaitable[int]], target: int, interval: float) -> float:
    """The time at which `count()` reached `target` (give up after 10 minutes)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if await count() >= target:
            return time.time()
        await asyncio.sleep(interval)
    raise TimeoutError(f"count did not reach {target}")


def _stored(home: Path, run_id: str) -> int:
    with sqlite3.connect(home / "db" / "scheduler.db") as db:
        query = "SELECT count(*) FROM run_metrics WHERE run_id = ?"
        return int(db.execute(query, (run_id,)).fetchone()[0])


async def _sdk_throughput(http: httpx.AsyncClient, home: Path, pids: dict[str, int]) -> None:
    """From the black box's first point: all points answered 2xx (accepted), all stored."""
    code = textwrap.dedent(SDK_RUN.format(n=POINTS))
    cpu_before = {name: cpu_s(pid) for name, pid in pids.items()}
    run_id = (await http.post("/v1/runs", json={"command": [sys.executable, "-c", code]})).json()[
        "id"
    ]
    # Counted in the scheduler's own SQLite file: its HTTP views load every point of the
    # series, which for 200k points is slower than what is measured here.
    stored_at = await _when(lambda: asyncio.to_thread(_stored, home, run_id), POINTS, 0.05)
    cpu = {name: cpu_s(pid) - cpu_before[name] for name, pid in pids.items()}
    logs = (await http.get(f"/v1/runs/{run_id}/logs")).json()["lines"]
    began, logged, flushed, black_box_cpu = (float(line["line"]) for line in logs[:4])
    accepted, stored = flushed - began, stored_at - began
    calls = POINTS / (logged - began)
    print(f"{'SDK: log_metric calls in the black box':<40} {calls:10,.0f} points/s")
    print(f"{'SDK: points accepted (in JetStream)':<40} {POINTS / accepted:10,.0f} points/s")
    own = black_box_cpu * 1e6 / POINTS
    print(f"{'SDK: CPU of the black box (all of it)':<40} {own:10.1f} µs/point")
    print(
        f"{'SDK: points stored by the scheduler':<40} {POINTS / stored:10,.0f} points/s "
        f"({POINTS:,} points: in JetStream after {accepted:.1f} s, stored after {stored:.1f} s)"
    )
    busy = ", ".join(f"{name} {s * 1e6 / POINTS:.1f}" for name, s in cpu.items() if s >= 0.05)
    print(f"{'SDK: CPU per point of the stack (µs)':<40} {busy}")
