"""Background work a service repeats: the outbox relay, sweeps, schedulers' ticks."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(interval_s: float, work: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `work` every `interval_s` until cancelled. A failure is logged and the next round
    tries again: an outage of NATS, the database or the blob store must not end the loop."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await work()
        except Exception:
            log.exception("%s failed; retrying in %.1f s", what, interval_s)
