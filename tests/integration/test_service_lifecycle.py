"""Services as processes: health over NATS, SIGTERM mid-stream loses nothing."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import nats

from shared.bus import Bus
from shared.events import RunRequested
from shared.health import health_subject
from shared.queries import RUNS_LIST
from tests.conftest import eventually

RUNS = 300


def start_scheduler(nats_url: str, home: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {"BOXOPS_NATS_URL": nats_url, "BOXOPS_HOME": str(home)}
    log = (home / "scheduler.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "services.scheduler"], env=env, stdout=log, stderr=log
    )


async def healthy(client: nats.NATS) -> dict[str, object] | None:
    try:
        reply = await client.request(health_subject("scheduler"), b"{}", timeout=0.5)
    except Exception:
        return None
    health: dict[str, object] = json.loads(reply.data)
    return health if health["status"] == "ok" else None


async def recorded_runs(client: nats.NATS) -> list[str]:
    reply = await client.request(RUNS_LIST, json.dumps({"limit": 1000}).encode(), timeout=5)
    return [run["id"] for run in json.loads(reply.data)["result"]]


async def test_a_scheduler_stopped_by_sigterm_mid_stream_loses_no_run(
    nats_url: str, tmp_path: Path
) -> None:
    client = await nats.connect(nats_url)
    first = start_scheduler(nats_url, tmp_path)
    try:
        health = await eventually(lambda: healthy(client), timeout=30)
        assert health["service"] == "scheduler"  # type: ignore[index]
        assert health["pid"] == first.pid  # type: ignore[index]

        from faststream.nats import NatsBroker

        broker = NatsBroker(nats_url)
        await broker.connect()
        bus = Bus(broker, "test")
        for i in range(RUNS):
            await bus.publish(RunRequested(run_id=f"run-{i:04}", command=["true"]))
            if i == RUNS // 3:
                first.send_signal(signal.SIGTERM)  # while the rest is still arriving
        assert await asyncio.to_thread(first.wait, 30) == 0
        await broker.stop()

        second = start_scheduler(nats_url, tmp_path)
        try:
            await eventually(lambda: healthy(client), timeout=30)

            async def all_recorded() -> bool:
                return len(await recorded_runs(client)) >= RUNS

            # Messages the first scheduler had fetched but not acked come back once their
            # ack wait (30 s) is over: the deadline leaves room for that, then the load.
            await eventually(all_recorded, timeout=60)
            runs = await recorded_runs(client)
            assert sorted(runs) == [f"run-{i:04}" for i in range(RUNS)]
        finally:
            second.terminate()
            assert await asyncio.to_thread(second.wait, 30) == 0
    finally:
        if first.poll() is None:
            first.kill()
        await client.close()
