"""A service's stop on a real nats-server: it ends even when a loop swallows a cancellation."""

import asyncio
import time
from pathlib import Path

from shared.events import RunRequested
from shared.service import build_service
from shared.settings import BoxopsSettings


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
    await asyncio.sleep(0.2)  # the idle consumer's first 1 s wait for messages has 0.8 s left
    began = time.monotonic()
    await service.bus.stop_consumers()
    # That wait ended at once, not when it timed out (at least 0.8 s later).
    assert time.monotonic() - began < 0.5
    await asyncio.wait_for(service.stop(), 10)

    assert swallowed == [True]
