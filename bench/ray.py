"""The ray backend's figures, on a two-node Ray cluster on loopback (the tests' fixture:
a head with 2 CPUs, a worker with 1) and an executor in this process on a nats-server of
its own, beside the local backend (unsandboxed) on the same harness:

- dispatch → the command runs (the time `date` prints, its first instruction) and
  dispatch → its first line visible on the run's log subject, one run at a time;
- many short runs dispatched at once (0.25 CPU each, 8 slots): runs per second.

`BENCH_RAY_RUNS` (200) and `BENCH_RAY_LATENCY` (50) set the counts.
"""

import asyncio
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import nats
from nats.aio.msg import Msg

from bench.stats import summary
from services.executor.app import build_app
from services.executor.settings import ExecutorSettings
from shared.bus import new_id, now
from shared.events import Resources, RunDispatched
from tests.conftest import start_nats
from tests.integration.ray_loopback import start_cluster, stop_cluster

RUNS = int(os.environ.get("BENCH_RAY_RUNS", "200"))
LATENCY = int(os.environ.get("BENCH_RAY_LATENCY", "50"))
SHORT = Resources(cpu=0.25, memory_mb=64)


class Watch:
    """What the executor says about runs: first log line (its time, and its text) and end."""

    def __init__(self) -> None:
        self.first: dict[str, tuple[float, str]] = {}
        self.ended: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def on_log(self, msg: Msg) -> None:
        body = json.loads(msg.data)
        if body["lines"] and body["run_id"] not in self.first:
            self.first[body["run_id"]] = (time.time(), body["lines"][0]["line"])

    async def on_ended(self, msg: Msg) -> None:
        body = json.loads(msg.data)
        future = self.ended.get(body["run_id"])
        if future and not future.done():
            future.set_result(body)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bxb") as directory:
        root = Path(directory)
        server, url = start_nats(root / "nats")
        cluster = await asyncio.to_thread(start_cluster)
        try:
            for backend in ("local", "ray"):
                await _figures(backend, url, root / backend, cluster.address)
        finally:
            await asyncio.to_thread(stop_cluster, cluster.temp_dir)
            server.terminate()
            server.wait(10)


async def _figures(backend: str, url: str, home: Path, address: str) -> None:
    settings = ExecutorSettings(
        nats_url=url,
        home=home,
        executor_id=f"bench-{backend}",
        slots=8,
        local_sandbox=False,
        log_flush_s=0.02,
        ray_address=address if backend == "ray" else "",
    )
    service = build_app(settings)
    await service.start()
    nc = await nats.connect(url)
    watch = Watch()
    await nc.subscribe("log.*", cb=watch.on_log)
    await nc.subscribe("executor.run.ended", cb=watch.on_ended)
    try:
        ran: list[float] = []
        seen: list[float] = []
        for _ in range(LATENCY):
            sent, run_id = await _dispatch(nc, settings, backend, watch, ["date", "+%s.%N"])
            ended = await asyncio.wait_for(watch.ended[run_id], 120)
            assert ended["exit_code"] == 0, ended
            at, line = watch.first[run_id]
            ran.append(float(line) - sent)
            seen.append(at - sent)
        if LATENCY:
            print(summary(f"{backend}: dispatch → command runs", ran))
            print(summary(f"{backend}: dispatch → first line visible", seen))
        await _throughput(nc, settings, backend, watch)
    finally:
        await nc.close()
        await service.stop()


async def _throughput(
    nc: nats.NATS, settings: ExecutorSettings, backend: str, watch: Watch
) -> None:
    began = time.time()
    runs = [(await _dispatch(nc, settings, backend, watch, ["true"]))[1] for _ in range(RUNS)]
    ends = await asyncio.wait_for(asyncio.gather(*(watch.ended[r] for r in runs)), 1800)
    took = time.time() - began
    failed = Counter(end["reason"][:80] for end in ends if end.get("exit_code") != 0)
    print(
        f"{backend}: {RUNS} short runs dispatched at once{'':<8} {took:8.1f} s  "
        f"{RUNS / took:6.2f} runs/s  failed={sum(failed.values())} {dict(failed.most_common(3))}"
    )


async def _dispatch(
    nc: nats.NATS, settings: ExecutorSettings, backend: str, watch: Watch, command: list[str]
) -> tuple[float, str]:
    run = RunDispatched(
        run_id=new_id(),
        state="pending",
        at=now(),
        executor_id=settings.executor_id,
        command=command,
        backend=backend,
        resources=SHORT,
    )
    watch.ended[run.run_id] = asyncio.get_running_loop().create_future()
    sent = time.time()
    js = nc.jetstream()
    await js.publish(run.nats_subject(), run.model_dump_json().encode())
    return sent, run.run_id
