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

    await eventually(waited_once)
    # The loop is in a later wait, which would run up to 1 s more. The stop ends it at once
    # instead. Timed from the stop itself: when the first timeout is seen varies with load.
    asked = now()
    await service.bus.stop_consumers()
    stopped = now()
    await asyncio.wait_for(service.stop(), 10)

    assert stopped - asked < timedelta(seconds=0.5)
    assert swallowed == [True]
