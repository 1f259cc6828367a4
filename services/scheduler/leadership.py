"""Who leads among scheduler replicas: a loop that takes, confirms and gives up the lease,
and starts or stops the leader's work as it does."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from services.scheduler import lease
from services.scheduler.lease import Hold, LeaseTimes, Step
from services.scheduler.leases import Lease

log = logging.getLogger(__name__)
ROUND_S = 0.1  # how often the loop looks at its lease: well within a confirmation period

Work = Callable[[], Coroutine[Any, Any, None]]


class Leadership:
    """Runs `lead()` when this replica takes the lease and `follow()` when it loses it.
    `lead()` runs beside the confirmations (rebuilding may take a while under load); a
    lease lost meanwhile cancels it before `follow()` undoes what it started."""

    def __init__(
        self,
        lease_: Lease,
        lead: Work,
        follow: Work,
        times: LeaseTimes | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lease, self.lead, self.follow = lease_, lead, follow
        self.times = times or LeaseTimes()
        self.clock = clock
        self.hold = Hold()
        self.leading: asyncio.Task[None] | None = None
        self.resigned = False

    async def run_forever(self) -> None:
        while True:
            await self.round()
            await asyncio.sleep(ROUND_S)

    async def round(self) -> None:
        if self.resigned:
            return
        if self.leading and self.leading.done() and self.leading.exception():
            log.error("taking over failed", exc_info=self.leading.exception())
            await self.step_down("taking over failed")  # and try again
            return
        step = lease.next_step(self.hold, at=self.clock(), times=self.times)
        if step is Step.WAIT:
            return
        if step is Step.STEP_DOWN:
            await self.step_down("its lease was not confirmed in time")
            return
        sent_at = self.clock()
        within = lease.answer_within(self.hold, at=sent_at, times=self.times)
        if step is Step.TRY:
            answered = await self.lease.take(within=within)
        else:
            answered = await self.lease.confirm(within=within)
        if self.resigned:  # stopped while the lease was asked: nothing more starts
            await self.lease.release()
            return
        was_leading = self.hold.leading
        self.hold = lease.after(self.hold, sent_at=sent_at, answered=answered)
        if answered and not was_leading:
            log.info("this scheduler leads")
            self.leading = asyncio.create_task(self.lead())
        elif was_leading and not answered:
            await self.step_down("its lease was lost")

    async def step_down(self, why: str) -> None:
        """Stop the leader's work at once; follow from now on."""
        log.warning("this scheduler stops leading: %s", why)
        self.hold = Hold(acted_at=self.clock())
        await self._stop_leading()

    async def resign(self) -> None:
        """On a clean stop: stop leading, then let the lease go so a follower leads at once."""
        self.resigned = True
        if self.hold.leading:
            self.hold = Hold()
            await self._stop_leading()
        await self.lease.release()

    async def _stop_leading(self) -> None:
        if self.leading is not None and not self.leading.done():
            self.leading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.leading
        self.leading = None
        await self.follow()
        await self.lease.release()  # whatever the connection still holds goes with it
