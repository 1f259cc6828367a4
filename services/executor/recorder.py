"""What a run reports about itself while it runs: metric points (published in batches as
`metric.logged`), params and tags; the last value of each goes into the end report."""

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from services.executor.markers import Marker
from shared.batch_publish import publish_many
from shared.bus import Bus, now
from shared.envelope import Envelope
from shared.events import Event, MetricLogged

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, bus: Bus, run_id: str, labels: dict[str, str], flush_s: float) -> None:
        self.bus = bus
        self.run_id = run_id
        self.labels = labels
        self.flush_s = flush_s
        self.metrics: dict[str, tuple[int, datetime, float]] = {}  # name → (step, at, value)
        self.params: dict[str, Any] = {}
        self.tags: dict[str, str] = {}
        self.pending: list[Envelope[Event]] = []
        self.count = 0

    def on_marker(self, marker: Marker) -> None:
        if marker.kind == "metric":
            assert isinstance(marker.value, float)
            self.metric(marker.name, marker.value, marker.step, now())
        elif marker.kind == "param":
            self.params[marker.name] = marker.value
        else:
            self.tags[marker.name] = str(marker.value)

    def metric(
        self, name: str, value: float, step: int | None, at: datetime, id: str | None = None
    ) -> None:
        """Record a point; `id` (from the SDK) makes a resent point a duplicate, not a second."""
        self.count += 1
        point = MetricLogged(
            name=name, value=value, step=step, run_id=self.run_id, at=at, labels=self.labels
        )
        event_id = id or f"{self.run_id}-m{self.count}"
        self.pending.append(self.bus.envelope(point, id=event_id))  # type: ignore[arg-type]
        key = (step if step is not None else -1, at)
        if name not in self.metrics or key >= self.metrics[name][:2]:
            self.metrics[name] = (*key, value)

    def last_values(self) -> dict[str, float]:
        return {name: value for name, (_, _, value) in self.metrics.items()}

    async def flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            await publish_many(self.bus, batch)

    async def flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                await self.flush()
            except Exception:
                # The points are lost to the live view only: the end report keeps the last
                # values, and the next flush goes on with what comes next.
                log.exception("publishing metrics of run %s failed", self.run_id)

    async def close(self, task: "asyncio.Task[None]") -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self.flush()
