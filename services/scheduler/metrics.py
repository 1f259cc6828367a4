"""Run metrics: per-run series written in batches."""

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import listed, outlined, store
from shared.bus import now
from shared.envelope import Envelope
from shared.events import MetricLogged, MetricsBatch

log = logging.getLogger(__name__)


class MetricWriter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def on_metrics(self, envelopes: Sequence[Envelope[MetricLogged | MetricsBatch]]) -> None:
        """Record metric points from runs (single or batched) in one transaction."""
        rows = [row for e in envelopes for row in _rows(e)]
        async with self.sessions() as session:
            new = await store.add_metrics(session, rows)
            await listed.keep_last_metrics(session, rows)
            await outlined.keep_outlines(await session.connection(), new)
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
