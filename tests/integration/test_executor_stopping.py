"""An executor shutting down says so in its heartbeats: no run is placed on it meanwhile,
and a run dispatched to an executor that never took the dispatch is not failed as lost."""

import asyncio
import json
from pathlib import Path

import nats

from services.executor.app import build_app
from services.executor.settings import ExecutorSettings
from shared.bus import Bus, now
from shared.events import ExecutorHeartbeat, ExecutorRunStarted, RunningAttempt
from shared.runs import LOST_ON_RESTART
from shared.service import Service
from tests.conftest import eventually
from tests.integration.conftest import Stack, caught_up, submit, wait_run

BEAT_S = 0.3
# The ghost says it beats every second (lost after 3 s without one, a margin a loaded
# machine needs) and beats every BEAT_S; missing a run is loss after 1.5 of its intervals.
GHOST_INTERVAL_S = 1.0
STUBBORN = ["sh", "-c", "trap '' TERM; sleep 300"]  # a stop takes its whole grace


def executor(nats_url: str, home: Path, name: str, slots: int) -> Service:
    settings = ExecutorSettings(
        nats_url=nats_url,
        home=home,
        executor_id=name,
        slots=slots,
        heartbeat_s=BEAT_S,
        stop_grace_s=20,
        local_sandbox=False,
    )
    return build_app(settings)


async def said_stopping(nats_url: str, executor_id: str) -> None:
    """Wait for a heartbeat of the executor that says it is stopping."""
    client = await nats.connect(nats_url)
    heard = asyncio.Event()

    async def on_beat(msg: nats.aio.msg.Msg) -> None:
        beat = json.loads(msg.data)
        if beat.get("executor_id") == executor_id and beat.get("stopping"):
            heard.set()

    await client.subscribe(ExecutorHeartbeat.subject, cb=on_beat)
    try:
        await asyncio.wait_for(heard.wait(), timeout=10)
    finally:
        await client.close()


async def test_no_run_is_placed_on_an_executor_that_is_stopping(
    scheduler_side: Stack, nats_url: str, tmp_path: Path
) -> None:
    stack = scheduler_side
    # `a` is the less loaded (1 run of 8 slots against 1 of 2): placement prefers it.
    a = executor(nats_url, tmp_path / "a", "a", slots=8)
    b = executor(nats_url, tmp_path / "b", "b", slots=2)
    await a.start()
    await b.start()
    stopping: asyncio.Task[None] | None = None
    try:
        on_a = await submit(stack.http, command=STUBBORN)
        on_b = await submit(stack.http, command=["sleep", "300"])
        for run_id in (on_a, on_b):
            await wait_run(stack.http, run_id, ("running",), timeout=30)
        first = (await stack.http.get(f"/v1/runs/{on_a}")).json()["executor_id"]
        assert first == "a"

        stopping = asyncio.create_task(a.stop())  # its stubborn run takes 20 s to stop
        await said_stopping(nats_url, "a")
        await caught_up(stack.scheduler)
        later = await submit(stack.http, command=["true"])
        run = await wait_run(stack.http, later, timeout=15)

        assert (run["state"], run["executor_id"]) == ("completed", "b")
        assert not stopping.done()
    finally:
        for run_id in (on_a, on_b):
            await stack.http.post(f"/v1/runs/{run_id}/abort")
        if stopping:
            await stopping
        await b.stop()


async def test_a_run_is_failed_as_lost_only_once_its_executor_said_it_started_it(
    scheduler_side: Stack,
) -> None:
    """An executor that never takes its dispatch (stopping, slow, or just up) does not list
    the run; the run waits for it. Once it said it started the run, not listing it is loss."""
    stack = scheduler_side
    bus: Bus = stack.gateway_service.bus

    async def beat(*attempts: RunningAttempt) -> None:
        await bus.publish(
            ExecutorHeartbeat(
                executor_id="ghost",
                running=[a.run_id for a in attempts],
                attempts=list(attempts),
                at=now(),
                interval_s=GHOST_INTERVAL_S,
            )
        )

    await beat()
    run_id = await submit(stack.http, command=["true"])

    async def dispatched() -> bool:
        await beat()  # alive: lost after 3 of its own intervals without a beat
        run = (await stack.http.get(f"/v1/runs/{run_id}")).json()
        return run.get("executor_id") == "ghost"

    await eventually(dispatched)
    for _ in range(20):  # four times the grace, heartbeats that do not list it
        await beat()
        await asyncio.sleep(BEAT_S)
    await caught_up(stack.scheduler)
    assert (await stack.http.get(f"/v1/runs/{run_id}")).json()["state"] == "pending"

    started = ExecutorRunStarted(run_id=run_id, executor_id="ghost", attempt=1, pid=1, at=now())
    await bus.publish(started)
    await wait_run(stack.http, run_id, ("running",))
    for _ in range(20):
        await beat()
        await asyncio.sleep(BEAT_S)
    run = await wait_run(stack.http, run_id, timeout=10)
    assert (run["state"], run["reason"]) == ("failed", LOST_ON_RESTART)
