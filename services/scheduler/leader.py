"""What only the leading scheduler does: consume what changes run state, and tick."""

import asyncio
import contextlib

from services.scheduler.handlers import Scheduler
from shared.bus import Bus
from shared.periodic import every


class LeaderWork:
    """Started when this replica takes the lease, stopped when it loses it. Its consumers
    are the bus's `held` ones; a follower keeps the others (metric points) and answers
    reads."""

    def __init__(self, bus: Bus, scheduler: Scheduler, tick_s: float) -> None:
        self.bus, self.scheduler, self.tick_s = bus, scheduler, tick_s
        self.ticking: asyncio.Task[None] | None = None

    async def lead(self) -> None:
        await self.scheduler.take_over()
        # Waiting runs are placed before the backlog of requests is taken: a burst that
        # came while no one led must not hold back what was accepted before it.
        await self.scheduler.tick()
        await self.bus.start_held()
        self.ticking = asyncio.create_task(every(self.tick_s, self.scheduler.tick, "tick"))

    async def follow(self) -> None:
        self.scheduler.leading = False  # a write in hand now fails rather than commits
        if self.ticking is not None:
            self.ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ticking
            self.ticking = None
        await self.bus.stop_held()
