"""Retention on a real database and a real JetStream: old published outbox rows and old inbox
ids are deleted in bounded batches, unpublished rows never, and the tables stay bounded."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import nats
import sqlalchemy as sa
from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.batch_publish import publish_many, publish_rows
from shared.bus import EVENTS, Bus, now
from shared.envelope import Envelope
from shared.events import RunAbortRequested, RunStopRequested
from shared.outbox import InboxRow, Outbox, OutboxRow
from shared.retention import Horizons, Retention
from shared.settings import DUPLICATE_WINDOW_S
from shared.unit_of_work import Tx, UnitOfWork
from tests.conftest import eventually

EVENTS_IN, WAVE = 10_000, 1_000
CONSUMER = "retention-test"


async def count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int((await session.exec(select(sa.func.count()).select_from(table))).one())


def outbox_row(row_id: str, *, age: timedelta, published: bool) -> OutboxRow:
    at = now() - age
    return OutboxRow(
        id=row_id,
        subject="run.abort.requested",
        headers="{}",
        body=b"{}",
        created_at=at,
        published_at=at if published else None,
    )


async def test_rows_past_their_horizon_go_a_bounded_batch_at_a_time(
    outbox_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = outbox_sessions
    old, recent = timedelta(hours=2), timedelta(minutes=1)
    async with sessions() as session:
        session.add_all(outbox_row(f"old{i}", age=old, published=True) for i in range(25))
        session.add(outbox_row("recent", age=recent, published=True))
        session.add(outbox_row("unpublished", age=old, published=False))
        session.add_all(
            InboxRow(consumer=c, event_id=f"e{i}", processed_at=now() - old)
            for i in range(15)
            for c in ("a", "b")
        )
        session.add(InboxRow(consumer="a", event_id="recent", processed_at=now() - recent))
        await session.commit()
    horizons = Horizons(outbox=timedelta(hours=1), inbox=timedelta(hours=1))
    retention = Retention(sessions, asyncio.Lock(), horizons, batch=10, statements=2)

    assert await retention.sweep_once() == (20, 20)  # two statements of ten, each table
    assert await retention.sweep_once() == (5, 10)
    assert await retention.sweep_once() == (0, 0)

    async with sessions() as session:
        outbox = set((await session.exec(select(OutboxRow.id))).all())
        inbox = set((await session.exec(select(InboxRow.event_id))).all())
    assert outbox == {"recent", "unpublished"}
    assert inbox == {"recent"}


@dataclass
class Echo:
    """A consumer that marks each event in its inbox and answers it through the outbox."""

    uow: UnitOfWork[Tx]
    handled: int = 0

    async def on_aborts(self, envelopes: list[Envelope[RunAbortRequested]]) -> None:
        async with self.uow.writing() as tx:
            fresh = await tx.unseen(CONSUMER, [e.id for e in envelopes])
            for envelope in envelopes:
                if envelope.id in fresh:
                    fresh.discard(envelope.id)
                    stop = RunStopRequested(
                        run_id=envelope.data.run_id, executor_id="x", reason="test"
                    )
                    tx.emit(stop)
        self.handled += len(envelopes)

    async def has_handled(self, events: int) -> bool:
        return self.handled >= events


async def swept(sessions: async_sessionmaker[AsyncSession], *, stuck: int) -> bool:
    """Nothing left in the outbox but rows not published, nothing in the inbox."""
    return (await count(sessions, OutboxRow), await count(sessions, InboxRow)) == (stuck, 0)


async def repeat(every_s: float, work: Callable[[], Awaitable[object]]) -> None:
    while True:
        await work()
        await asyncio.sleep(every_s)


@asynccontextmanager
async def background(*jobs: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_outbox_and_inbox_stay_bounded_across_ten_thousand_events(
    nats_url: str, outbox_sessions: async_sessionmaker[AsyncSession]
) -> None:
    sessions = outbox_sessions
    broker = NatsBroker(nats_url)
    bus = Bus(broker, "test")
    outbox = Outbox(sessions, bus.publish_raw, lambda rows: publish_rows(bus, rows))
    echo = Echo(UnitOfWork(bus, sessions, outbox, Tx))
    bus.consume_batch(RunAbortRequested, durable="echo")(echo.on_aborts)
    # Rows whose publishing failed (a NATS outage), long ago: the relay's to send, not ours.
    async with sessions() as session:
        session.add_all(
            outbox_row(f"stuck{i}", age=timedelta(days=1), published=False) for i in range(3)
        )
        await session.commit()
    horizons = Horizons(outbox=timedelta(0), inbox=timedelta(milliseconds=200))
    retention = Retention(sessions, outbox.writer, horizons, batch=250)
    peaks = {"outbox": 0, "inbox": 0}

    async def sample() -> None:
        peaks["outbox"] = max(peaks["outbox"], await count(sessions, OutboxRow))
        peaks["inbox"] = max(peaks["inbox"], await count(sessions, InboxRow))

    await broker.connect()
    await bus.declare_streams()
    await broker.start()
    await bus.start_consumers()
    client = await nats.connect(nats_url)  # of its own, to look at the stream
    try:
        # The relay marks what was sent (`mark_published`, the first step of its every round).
        async with background(
            repeat(0.02, outbox.mark_published),
            retention.sweep_forever(0.02),
            repeat(0.01, sample),
        ):
            for start in range(0, EVENTS_IN, WAVE):
                ids = range(start, start + WAVE)
                await publish_many(
                    bus, [bus.envelope(RunAbortRequested(run_id=f"r{i}")) for i in ids]
                )
                await eventually(partial(echo.has_handled, start + WAVE), timeout=60)
                await eventually(partial(swept, sessions, stuck=3), timeout=30)

        stream = await client.jetstream().stream_info(EVENTS.name)
        assert stream.state.messages == 2 * EVENTS_IN  # every event in, every answer out
        assert stream.config.duplicate_window == DUPLICATE_WINDOW_S
        # Never more than one wave's rows at once, where 10,000 of each would have piled up.
        assert 0 < peaks["outbox"] <= WAVE + 3
        assert 0 < peaks["inbox"] <= WAVE
        async with sessions() as session:
            stuck = (
                await session.exec(select(OutboxRow).where(col(OutboxRow.published_at).is_(None)))
            ).all()
        assert sorted(row.id for row in stuck) == ["stuck0", "stuck1", "stuck2"]
    finally:
        await client.close()
        await bus.stop_consumers()
        await broker.stop()
