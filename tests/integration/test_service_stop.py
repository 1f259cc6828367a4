"""A service's stop on a real nats-server: it ends even when a loop swallows a cancellation."""

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from shared.bus import now
from shared.events import RunRequested
from shared.service import build_service
from shared.settings import BoxopsSettings
from tests.conftest import eventually


async def test_a_stop_ends_though_a_background_loop_swallows_one_cancellation(
    nats_url: str, tmp_path: Path
) -> None:
    service = build_service("tests-stop", BoxopsSettings(nats_url=nats_url, home=tmp_path), None)
    swallowed = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(True)  # as 3.11's wait_for can: the loop goes on

    async def handle(envelope: object) -> None:
        pass

    service.background.append(stubborn)
    service.bus.consume(RunRequested, durable="tests-stop")(handle)
    await service.start()
    [loop] = service.bus.loops

    async def waited_once() -> datetime | None:
        return loop.caught_up_at  # when the idle consumer's first 1 s wait, now over, began

    began = await eventually(waited_once)
    # The loop is in its next wait: that began 1 s or more after `began` and would time out
    # 1 s later still. The stop ends it at once instead.
    await service.bus.stop_consumers()
    stopped = now()
    await asyncio.wait_for(service.stop(), 10)

    assert stopped - began < timedelta(seconds=1.9)
    assert swallowed == [True]
