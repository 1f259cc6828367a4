"""Retention of the outbox and the inbox: rows past their horizon are deleted, a bounded batch
per statement, so neither table grows with every event a service ever handled.

Each statement is a transaction of its own under the outbox's writer lock (SQLite's one
writer): a handler waits for at most one batch, and queues ahead of the sweep's next one.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.dml import Delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus import now
from shared.outbox import InboxRow, OutboxRow
from shared.periodic import every
from shared.settings import BoxopsSettings

log = logging.getLogger(__name__)
BATCH = 1000  # rows a statement deletes at most
STATEMENTS = 50  # per table and round; what is left waits for the next round


@dataclass(frozen=True)
class Horizons:
    outbox: timedelta  # since a row was published
    inbox: timedelta  # since an event was processed

    @classmethod
    def of(cls, settings: BoxopsSettings) -> "Horizons":
        return cls(
            outbox=timedelta(seconds=settings.outbox_retention_s),
            inbox=timedelta(seconds=settings.inbox_retention_s),
        )


def published_before(cutoff: datetime, batch: int) -> Delete:
    """Up to `batch` outbox rows published before `cutoff`; unpublished rows never."""
    ids = (
        select(OutboxRow.id)
        .where(col(OutboxRow.published_at).is_not(None))
        .where(col(OutboxRow.published_at) < cutoff)
        .limit(batch)
    )
    return sa.delete(OutboxRow).where(col(OutboxRow.id).in_(ids.scalar_subquery()))


def processed_before(cutoff: datetime, batch: int) -> Delete:
    """Up to `batch` inbox rows of events processed before `cutoff`."""
    keys = select(InboxRow.consumer, InboxRow.event_id).where(col(InboxRow.processed_at) < cutoff)
    return sa.delete(InboxRow).where(
        sa.tuple_(col(InboxRow.consumer), col(InboxRow.event_id)).in_(keys.limit(batch))
    )


class Retention:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: asyncio.Lock,
        horizons: Horizons,
        *,
        batch: int = BATCH,
        statements: int = STATEMENTS,
    ) -> None:
        self.sessions = sessions
        self.writer = writer
        self.horizons = horizons
        self.batch = batch
        self.statements = statements

    async def sweep_once(self) -> tuple[int, int]:
        """(outbox rows, inbox rows) deleted."""
        at = now()
        outbox = await self._delete(published_before(at - self.horizons.outbox, self.batch))
        inbox = await self._delete(processed_before(at - self.horizons.inbox, self.batch))
        return outbox, inbox

    async def sweep_forever(self, interval_s: float) -> None:
        await every(interval_s, self.sweep_once, "deleting old outbox and inbox rows")

    async def _delete(self, statement: Delete) -> int:
        deleted = 0
        for _ in range(self.statements):
            async with self.writer, self.sessions() as session:
                result = await (await session.connection()).execute(statement)
                await session.commit()
            deleted += result.rowcount
            if result.rowcount < self.batch:
                break
        return deleted
