"""Run metrics: per-run series written in batches, and their summary. Summary is pure."""

import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import store
from services.scheduler.tables import MetricRow
from shared.bus import now
from shared.envelope import Envelope
from shared.events import MetricLogged
from shared.queries import MetricSummary

log = logging.getLogger(__name__)


def summarize(points: Iterable[MetricRow]) -> dict[str, MetricSummary]:
    """Last (by step, then time), min, max and count per metric name."""
    by_name: dict[str, list[MetricRow]] = {}
    for point in points:
        by_name.setdefault(point.name, []).append(point)
    summary = {}
    for name, rows in by_name.items():
        last = max(rows, key=lambda r: (r.step if r.step is not None else -1, r.at))
        values = [r.value for r in rows]
        summary[name] = MetricSummary(
            last=last.value, min=min(values), max=max(values), count=len(rows), last_step=last.step
        )
    return summary


class MetricWriter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def on_metrics(self, envelopes: list[Envelope[MetricLogged]]) -> None:
        """Record a batch of metric points from runs in one transaction."""
        rows = [
            {
                "id": e.id,
                "run_id": e.data.run_id,
                "name": e.data.name,
                "step": e.data.step,
                "value": e.data.value,
                "at": e.data.at or e.time,
            }
            for e in envelopes
            if e.data.run_id  # points from outside belong to monitors, not to runs
        ]
        async with self.sessions() as session:
            await store.add_metrics(session, rows)
            await session.commit()
        if rows:
            log.debug("recorded %d metric points at %s", len(rows), now())
