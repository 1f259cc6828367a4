"""One write: state and the events it causes commit together, then the events are published."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.batch_publish import publish_many
from shared.bus import Bus, now
from shared.envelope import Envelope
from shared.events import Event
from shared.outbox import InboxRow, Outbox, OutboxRow, Staged, already_processed, stage

BATCH_FROM = 20  # fewer events go one by one: a batch costs a subscription of its own


@dataclass
class Tx:
    session: AsyncSession
    events: list[Event] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)  # what use cases learnt in this write

    def emit(self, event: Event) -> None:
        self.events.append(event)

    async def seen(self, consumer: str, event_id: str) -> bool:
        return await already_processed(self.session, consumer, event_id, now=now())

    async def unseen(self, consumer: str, event_ids: list[str]) -> set[str]:
        """Of a batch of events, those this consumer has not processed; they are marked
        processed in this transaction (one query for the batch, not one per event)."""
        query = select(InboxRow.event_id).where(
            InboxRow.consumer == consumer, col(InboxRow.event_id).in_(event_ids)
        )
        seen = set((await self.session.exec(query)).all())
        fresh = list(dict.fromkeys(e for e in event_ids if e not in seen))
        at = now()
        self.session.add_all(
            InboxRow(consumer=consumer, event_id=e, processed_at=at) for e in fresh
        )
        return set(fresh)


class Writer:
    def __init__(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], outbox: Outbox
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.outbox = outbox
        # One writer per process: version numbers are "latest + 1", and two interleaved
        # writers would both take the same number (the unique index would refuse the second).
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def writing(self, depth: int = 0) -> AsyncIterator[Tx]:
        """`depth`: the causation depth the events of this write carry (ce-boxopsdepth)."""
        async with self.lock:
            async with self.sessions() as session:
                tx = Tx(session)
                yield tx
                envelopes = [self.bus.envelope(e, depth=depth) for e in tx.events]
                rows = await stage(session, envelopes, now=now())
                await session.commit()
            # Still under the lock: events leave in the order their versions were numbered.
            await self._publish(envelopes, rows)

    async def _publish(self, envelopes: list[Envelope[Event]], rows: list[Staged]) -> None:
        """Publish what just committed; if this fails, the outbox relay sends it later."""
        if len(rows) < BATCH_FROM:
            await self.outbox.publish(rows)
            return
        # A batch of announcements goes out at once, its acks awaited together.
        await publish_many(self.bus, envelopes)
        async with self.sessions() as session:
            published = col(OutboxRow.id).in_([row.id for row in rows])
            await session.exec(sa.update(OutboxRow).where(published).values(published_at=now()))  # type: ignore[call-overload]
            await session.commit()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session
