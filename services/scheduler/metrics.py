"""Run metrics: per-run series written in batches, and their summary. Summary is pure."""

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import store
from services.scheduler.tables import MetricRow
from shared.bus import now
from shared.envelope import Envelope
from shared.events import MetricLogged, MetricsBatch
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

    async def on_metrics(self, envelopes: Sequence[Envelope[MetricLogged | MetricsBatch]]) -> None:
        """Record metric points from runs (single or batched) in one transaction."""
        rows = [row for e in envelopes for row in _rows(e)]
        async with self.sessions() as session:
            await store.add_metrics(session, rows)
            await session.commit()
        if rows:
            log.debug("recorded %d metric points at %s", len(rows), now())


def _rows(envelope: Envelope[MetricLogged | MetricsBatch]) -> list[store.MetricValues]:
    """Rows keyed by run and point id (so the SDK's live and buffered copies of a point are
    one row); points from outside belong to monitors, not to runs."""
    event, time = envelope.data, envelope.time
    run_id = event.run_id
    if not run_id:
        return []
    if isinstance(event, MetricLogged):  # a single point: keyed by its event id
        return [(envelope.id, run_id, event.name, event.step, event.value, event.at or time)]
    return [
        (
            f"{run_id}-{p['id']}" if p.get("id") else f"{envelope.id}-{number}",
            run_id,
            p["name"],
            p.get("step"),
            p["value"],
            p.get("at") or time,
        )
        for number, p in enumerate(event.points)
    ]
