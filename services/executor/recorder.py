"""What a run reports about itself while it runs: metric points (published as
`metrics.logged` batches), params and tags; the last value of each goes into the end report."""

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from services.executor.markers import Marker
from shared.batch_publish import publish_many
from shared.bus import Bus, now
from shared.envelope import Envelope
from shared.events import Event, MetricPoint, MetricsLogged

log = logging.getLogger(__name__)
CHUNK = 1000  # points per message: well under NATS's 1 MB


class Recorder:
    def __init__(self, bus: Bus, run_id: str, labels: dict[str, str], flush_s: float) -> None:
        self.bus = bus
        self.run_id = run_id
        self.labels = labels
        self.flush_s = flush_s
        self.metrics: dict[str, tuple[int, datetime, float]] = {}  # name → (step, at, value)
        self.params: dict[str, Any] = {}
        self.tags: dict[str, str] = {}
        self.pending: list[MetricPoint] = []
        self.count = 0

    def on_marker(self, marker: Marker) -> None:
        if marker.kind == "metric":
            assert isinstance(marker.value, float)  # noqa: S101
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
        point_id = id or f"m{self.count}"
        self.pending.append(MetricPoint(id=point_id, name=name, value=value, step=step, at=at))
        key = (step if step is not None else -1, at)
        if name not in self.metrics or key >= self.metrics[name][:2]:
            self.metrics[name] = (*key, value)

    def last_values(self) -> dict[str, float]:
        return {name: value for name, (_, _, value) in self.metrics.items()}

    async def flush(self) -> None:
        """Publish the pending points; those that could not be published stay pending, and
        go again in the same chunks (the same ids: a copy stored before is dropped)."""
        while self.pending:
            batch = self.pending[:]  # points logged while this is published wait their turn
            await publish_many(
                self.bus, [self._event(batch[i : i + CHUNK]) for i in range(0, len(batch), CHUNK)]
            )
            del self.pending[: len(batch)]

    def _event(self, points: list[MetricPoint]) -> Envelope[Event]:
        event = MetricsLogged(run_id=self.run_id, labels=self.labels, points=points)
        # Published again (a retry), the same id: JetStream drops it as a duplicate.
        return self.bus.envelope(event, id=f"{self.run_id}-{points[0].id}-{len(points)}")

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
        await self.flush_or_keep()

    async def flush_or_keep(self) -> None:
        """Flush; points NATS will not take now stay pending (`unsent` hands them over)."""
        if not self.bus.nats.connected:
            return  # a publish now would only wait out its timeout
        try:
            await self.flush()
        except Exception as err:
            log.warning("publishing metrics of run %s failed (%s): kept", self.run_id, err)

    def unsent(self) -> list[Envelope[Event]]:
        """What is pending, as the events a flush would publish; then nothing is pending."""
        batch, self.pending = self.pending, []
        return [self._event(batch[i : i + CHUNK]) for i in range(0, len(batch), CHUNK)]
