"""The scheduler's first word on a run the gateway submitted: accepted (`run.pending`) or
refused (`run.failed`). The gateway waits briefly for it, so a request that cannot run is
answered with the reason rather than learnt by polling."""

import asyncio
from collections.abc import Awaitable, Callable

from faststream.nats import NatsBroker

from shared.events import RunFailed, RunPending, RunTransition

DECIDING: tuple[type[RunTransition], ...] = (RunPending, RunFailed)


class Decisions:
    """The runs this gateway is waiting on, settled by the scheduler's events; every replica
    hears every event (a plain subscription, not a queue group) and settles only its own."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[RunTransition]] = {}

    def subscribe(self, broker: NatsBroker) -> None:
        for model in DECIDING:
            broker.subscriber(model.subject)(self._handler(model))

    def _handler(self, model: type[RunTransition]) -> Callable[..., Awaitable[None]]:
        async def on_decision(event: model) -> None:  # type: ignore[valid-type]
            self.settle(event)

        on_decision.__name__ = f"decision_{model.subject.replace('.', '_')}"
        return on_decision

    def settle(self, event: RunTransition) -> None:
        future = self.waiting.get(event.run_id)
        if future is not None and not future.done():
            future.set_result(event)

    async def first(
        self, run_id: str, submit: Callable[[], Awaitable[object]], timeout_s: float
    ) -> RunTransition | None:
        """Submit, then the scheduler's decision on `run_id`; None if it took longer than
        `timeout_s`. Waiting starts before the request leaves: the answer cannot be missed."""
        future = self.waiting[run_id] = asyncio.get_running_loop().create_future()
        try:
            await submit()
            return await _within(future, timeout_s)
        finally:
            del self.waiting[run_id]


async def _within(
    future: "asyncio.Future[RunTransition]", timeout_s: float
) -> RunTransition | None:
    if timeout_s <= 0:
        return None
    try:
        return await asyncio.wait_for(future, timeout_s)
    except TimeoutError:  # the decision is late (a busy or stopped scheduler): still pending
        return None
