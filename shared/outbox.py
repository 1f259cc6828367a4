"""Transactional outbox and idempotency inbox, one pair of tables in every service's database.

A state change and the events it causes commit in one transaction (`stage`); the events
are published right after commit (`Outbox.publish`), and a relay re-publishes whatever a
crash left behind. JetStream drops the duplicates a re-publish can make (Nats-Msg-Id).
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import UTCDateTime
from shared.envelope import Envelope, body_for, headers_for
from shared.periodic import every

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, dict[str, str]], Awaitable[None]]
PublishMany = Callable[[Sequence["Staged"]], Awaitable[None]]
MANY = 8  # from this many events on, one batch beats a round trip each


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"

    id: str = Field(primary_key=True)
    subject: str
    headers: str = Field(sa_type=sa.Text)
    body: bytes
    created_at: datetime = Field(sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class InboxRow(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    processed_at: datetime = Field(sa_type=UTCDateTime, index=True)


# Built once: a statement with its values inline would be compiled (and its cache key
# computed from the values) at every call.
_INBOX_INSERT = {
    "sqlite": sqlite_insert(InboxRow).on_conflict_do_nothing(),
    "postgresql": postgres_insert(InboxRow).on_conflict_do_nothing(),
}
_EVENT_ID = col(InboxRow.event_id)  # what a batch insert returns: the ids it inserted
_INBOX_INSERT_MANY = {
    "sqlite": sqlite_insert(InboxRow).on_conflict_do_nothing().returning(_EVENT_ID),
    "postgresql": postgres_insert(InboxRow).on_conflict_do_nothing().returning(_EVENT_ID),
}


@dataclass(frozen=True)
class Staged:
    """An event written to the outbox in a transaction, to publish once it commits."""

    id: str
    subject: str
    headers: str
    body: bytes


async def stage(
    session: AsyncSession, envelopes: Iterable[Envelope], *, now: datetime
) -> list[Staged]:
    """Add events to the session's transaction, in one statement (no ORM object an event:
    building those cost more than the insert); pass the result to `Outbox.publish`."""
    staged = [
        Staged(
            id=envelope.id,
            subject=envelope.data.nats_subject(),
            headers=json.dumps(headers_for(envelope)),
            body=body_for(envelope),
        )
        for envelope in envelopes
    ]
    if staged:
        connection = await session.connection()
        rows = [vars(event) | {"created_at": now} for event in staged]
        await connection.execute(sa.insert(OutboxRow.__table__), rows)  # type: ignore[attr-defined]
    return staged


async def already_processed(
    session: AsyncSession, consumer: str, event_id: str, *, now: datetime
) -> bool:
    """True if this consumer saw the event; otherwise records it in the current transaction.
    One statement: the row is inserted unless it is there. A replica processing the same
    event meanwhile makes this wait for its commit (then: seen), not fail at flush."""
    connection = await session.connection()
    row = {"consumer": consumer, "event_id": event_id, "processed_at": now}
    result = await connection.execute(_INBOX_INSERT[connection.dialect.name], row)
    return result.rowcount == 0


async def not_yet_processed(
    session: AsyncSession, consumer: str, event_ids: Iterable[str], *, now: datetime
) -> set[str]:
    """`already_processed` for a batch in one statement: the ids this consumer has not seen,
    recorded in the current transaction. An id twice in the batch is returned once."""
    fresh = list(dict.fromkeys(event_ids))
    if not fresh:
        return set()
    connection = await session.connection()
    rows = [{"consumer": consumer, "event_id": e, "processed_at": now} for e in fresh]
    result = await connection.execute(_INBOX_INSERT_MANY[connection.dialect.name], rows)
    return set(result.scalars())


async def unmark_processed(session: AsyncSession, consumer: str, event_ids: Iterable[str]) -> None:
    """Undo this transaction's marks of events it refused: a refused event may come again
    (replayed from the DLQ after a fix) and must be processed then."""
    ids = list(event_ids)
    if ids:
        connection = await session.connection()
        await connection.execute(
            sa.delete(InboxRow).where(
                col(InboxRow.consumer) == consumer, col(InboxRow.event_id).in_(ids)
            )
        )


class Outbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publish: Publish,
        publish_many: PublishMany | None = None,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._publish_many = publish_many
        self._lock = asyncio.Lock()
        self._published: list[str] = []
        # One writer to this database at a time in this process, shared with the service's
        # handlers: SQLite has one writer, and a second one is not woken when the first
        # commits but sleeps in its busy handler (1, 2, 5, 10 ms … each time it finds the
        # database locked). On PostgreSQL it costs the relay nothing worth noting.
        self.writer = asyncio.Lock()

    async def publish(self, rows: Sequence[Staged]) -> None:
        """Publish committed rows in order, right away. They are marked published by the
        relay's next round, many in one statement: a transaction of its own per publish
        competed with the next write for the database (SQLite has one writer). A crash
        before the mark makes the relay send them again; JetStream drops the duplicates."""
        if not rows:
            return
        async with self._lock:  # keeps events of one service in commit order on the wire
            if self._publish_many and len(rows) >= MANY:
                await self._publish_many(rows)
            else:
                for row in rows:
                    await self._publish(row.subject, row.body, json.loads(row.headers))
        self._published.extend(row.id for row in rows)

    async def mark_published(self) -> None:
        """Record what `publish` sent (the relay does it every round, a service at its stop)."""
        while self._published:
            ids, self._published = self._published[:1000], self._published[1000:]
            try:
                async with self.writer, self._sessions() as session:
                    await session.exec(
                        sa.update(OutboxRow)
                        .where(col(OutboxRow.id).in_(ids))
                        .values(published_at=datetime.now(UTC))
                    )
                    await session.commit()
            except Exception:
                # Unmarked rows are sent again by the relay; JetStream drops the duplicates.
                log.exception("marking %d outbox rows published failed", len(ids))

    async def relay_once(self, *, older_than: timedelta = timedelta(seconds=2)) -> int:
        """Publish rows a crash or a NATS outage left unpublished."""
        await self.mark_published()  # what was sent since the last round is not sent again
        cutoff = datetime.now(UTC) - older_than
        async with self._sessions() as session:
            query = (
                select(OutboxRow)
                .where(col(OutboxRow.published_at).is_(None))
                .where(col(OutboxRow.created_at) < cutoff)
                .order_by(col(OutboxRow.created_at))
                .limit(500)
            )
            rows = list((await session.exec(query)).all())
        await self._send(rows)
        return len(rows)

    async def relay_forever(self, interval: float = 1.0) -> None:
        await every(interval, self.relay_once, "outbox relay")

    async def _send(self, rows: Sequence[OutboxRow]) -> None:
        # Only the publishing lock (commit order on the wire) is held while NATS answers,
        # never the database's writer: an outage must not stall every service's writes.
        try:
            async with self._lock:
                for row in rows:
                    await self._publish(row.subject, row.body, json.loads(row.headers))
                    self._published.append(row.id)
        finally:
            await self.mark_published()  # what went out before a failure is not sent again
