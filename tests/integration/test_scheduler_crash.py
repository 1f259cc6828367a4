"""A scheduler killed with SIGKILL in the middle of 200 runs loses none and starts none twice."""

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path

import nats
from faststream.nats import NatsBroker

from shared.bus import EVENTS, Bus
from shared.events import RunRequested
from shared.queries import RUNS_LIST
from tests.conftest import eventually
from tests.integration.processes import answers, start_service

RUNS = 200


async def runs_by_state(client: nats.NATS) -> Counter[str]:
    reply = await client.request(RUNS_LIST, json.dumps({"limit": 1000}).encode(), timeout=5)
    return Counter(run["state"] for run in json.loads(reply.data)["result"])


async def started_reports(client: nats.NATS) -> Counter[str]:
    """How often each run's process was started, from the executor's reports in the stream."""
    js = client.jetstream()
    counts: Counter[str] = Counter()
    subscription = await js.pull_subscribe("executor.run.started", stream=EVENTS.name)
    while True:
        try:
            messages = await subscription.fetch(500, timeout=1)
        except TimeoutError:
            return counts
        for message in messages:
            counts[json.loads(message.data)["run_id"]] += 1
            await message.ack()


async def test_every_run_completes_exactly_once_across_a_scheduler_kill(
    nats_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    settings = {"nats_url": nats_url, "db_url": f"sqlite+aiosqlite:///{tmp_path / 's.db'}"}
    executor = start_service("executor", home, nats_url=nats_url, executor_id="ex", slots=8)
    scheduler = start_service("scheduler", home, **settings)
    client = await nats.connect(nats_url)
    broker = NatsBroker(nats_url)
    try:
        await eventually(lambda: answers(client, "scheduler"), timeout=30)
        await eventually(lambda: answers(client, "executor"), timeout=30)
        await broker.connect()
        bus = Bus(broker, "test")
        for i in range(RUNS):
            await bus.publish(RunRequested(run_id=f"r{i:03}", command=["true"]))
            if i == RUNS // 3:
                scheduler.send_signal(signal.SIGKILL)  # in the middle of accepting and placing
        await asyncio.to_thread(scheduler.wait, 10)

        scheduler = start_service("scheduler", home, **settings)
        await eventually(lambda: answers(client, "scheduler"), timeout=30)

        async def all_completed() -> Counter[str] | None:
            states = await runs_by_state(client)
            return states if states["completed"] == RUNS else None

        assert await eventually(all_completed, timeout=90) == Counter(completed=RUNS)
        starts = await started_reports(client)
        assert len(starts) == RUNS
        assert set(starts.values()) == {1}, [r for r, n in starts.items() if n > 1]
    finally:
        await broker.stop()
        await client.close()
        for process in (scheduler, executor):
            if process.poll() is None:
                process.terminate()
                await asyncio.to_thread(process.wait, 20)
