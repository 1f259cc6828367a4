"""One write of a service: its state, inbox rows and outbox rows commit together, then the
events are published.

Which lock protects what:

- `Outbox.writer`, one per process and database, is held from a write's first statement to
  its commit. It is the only lock a write takes, and it guards two things:
  * a handler's read-then-write against another handler of the same process: the registry
    numbers versions "latest + 1", the scheduler's placement reads free capacity and writes
    dispatches, the artifact service decides which blobs are new. Replicas are kept apart
    by unique keys instead: the transaction that loses fails and is retried.
  * SQLite's one writer: a second writer is not woken when the first commits but sleeps in
    its busy handler (1, 2, 5, 10 ms … each time it finds the database locked). The relay's
    marks and the retention sweep take the same lock, so they never meet a handler there.
    Writes that change no state other events depend on (the scheduler's metric points, the
    artifact service's upload bookkeeping and previews) commit without it: on SQLite they
    may wait in the busy handler, never on a handler's lock.
  The relay publishes without it: a NATS outage must not stall the services' writes.
- The outbox's own publishing lock keeps one service's events in commit order on the wire.
  A write lets the writer go and queues for the publishing lock with nothing awaited in
  between, so a later write, which can only commit after taking the writer, is always
  queued behind it: events leave in the order their writes committed (the registry's
  versions in the order they were numbered) while the next write need not wait for acks.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus import Bus, now
from shared.events import Event
from shared.outbox import Outbox, already_processed, not_yet_processed, stage, unmark_processed


@dataclass
class Tx:
    """What one write gathers: its session and the events to publish once it commits.

    A service subclasses it for the state its use cases keep during a write, and may
    override the hooks, which run under the writer lock."""

    session: AsyncSession
    depth: int = 0  # causation depth of the events of this write unless one says otherwise
    events: list[tuple[Event, int]] = field(default_factory=list)

    def emit(self, event: Event, depth: int | None = None) -> None:
        """Publish `event` if this write commits (`depth`: its own causation depth)."""
        self.events.append((event, self.depth if depth is None else depth))

    async def seen(self, consumer: str, event_id: str) -> bool:
        """True if this consumer processed the event; otherwise it is marked processed in
        this transaction. A replica processing it meanwhile makes this wait for its commit."""
        return await already_processed(self.session, consumer, event_id, now=now())

    async def unseen(self, consumer: str, event_ids: list[str]) -> set[str]:
        """Of a batch of events, those this consumer has not processed, marked processed in
        this transaction: one statement for the batch. Waits for a replica's uncommitted
        marks like `seen`; an id twice in the batch is returned once."""
        return await not_yet_processed(self.session, consumer, event_ids, now=now())

    async def refused(self, consumer: str, event_ids: list[str]) -> None:
        """Of events `unseen` marked, those this write refused (dead-lettered): unmarked, so
        a replay of them is processed."""
        await unmark_processed(self.session, consumer, event_ids)

    async def before_commit(self) -> None:
        """Write what the use cases kept in memory (the scheduler: its runs)."""

    def after_commit(self) -> None:
        """Update in-memory state from what committed, before the next write begins."""

    async def after_failure(self) -> None:
        """Undo in-memory state the failed write may have changed."""


T = TypeVar("T", bound=Tx)


class UnitOfWork(Generic[T]):
    """Writes of one service: `async with uow.writing() as tx: …` commits, then publishes."""

    def __init__(
        self,
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        new_tx: Callable[[AsyncSession], T],
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.outbox = outbox
        self.new_tx = new_tx
        self.lock = outbox.writer

    @asynccontextmanager
    async def writing(self, depth: int = 0) -> AsyncIterator[T]:
        """`depth`: the causation depth the events of this write carry (ce-boxopsdepth)."""
        async with self.lock, self.sessions() as session:
            tx = self.new_tx(session)
            tx.depth = depth
            try:
                yield tx
                await tx.before_commit()
                envelopes = [self.bus.envelope(e, depth=d) for e, d in tx.events]
                staged = await stage(session, envelopes, now=now())
                await session.commit()
            except BaseException:
                await tx.after_failure()
                raise
            tx.after_commit()
        # The writer is let go and the publishing lock queued for with nothing awaited in
        # between: events leave in commit order. If publishing fails, the relay sends them.
        await self.outbox.publish(staged)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads, without the writer lock."""
        async with self.sessions() as session:
            yield session
