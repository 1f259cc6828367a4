"""The one unit of work on a real database and a real JetStream: events leave after commit,
in commit order; a failed write leaves nothing; a batch is marked in the inbox once."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats
import pytest
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.batch_publish import publish_rows
from shared.bus import EVENTS, Bus
from shared.events import RunAbortRequested
from shared.outbox import InboxRow, Outbox, OutboxRow
from shared.unit_of_work import Tx, UnitOfWork
from tests.conftest import eventually
from tests.integration.db_waits import waits_for


@dataclass
class Parts:
    uow: UnitOfWork[Tx]
    js: JetStreamContext  # a client of its own, to look at the stream

    async def stored(self) -> list[str]:
        """Run ids of the stream's messages, in the order JetStream stored them."""
        js = self.js
        state = (await js.stream_info(EVENTS.name)).state
        if state.messages == 0:
            return []
        seqs = range(state.first_seq, state.last_seq + 1)
        return [json.loads((await js.get_msg(EVENTS.name, seq=s)).data)["run_id"] for s in seqs]


@pytest.fixture
async def parts(
    nats_url: str, outbox_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Parts]:
    sessions = outbox_sessions
    broker = NatsBroker(nats_url)
    bus = Bus(broker, "test")
    await broker.connect()
    await bus.declare_streams()
    outbox = Outbox(sessions, bus.publish_raw, lambda rows: publish_rows(bus, rows))
    client = await nats.connect(nats_url)
    yield Parts(UnitOfWork(bus, sessions, outbox, Tx), client.jetstream())
    await client.close()
    await broker.stop()


async def test_events_leave_in_the_order_their_writes_committed(parts: Parts) -> None:
    numbered = 0

    async def write(events: int) -> None:
        nonlocal numbered
        async with parts.uow.writing() as tx:
            await asyncio.sleep(0)  # another write would slip in here, were there no lock
            for _ in range(events):
                numbered += 1  # "latest + 1", as the registry numbers versions
                tx.emit(RunAbortRequested(run_id=f"{numbered:04d}"))

    # One event a write is sent alone; ten go as one batch: both kinds keep the order.
    await asyncio.gather(*(write(1 if n % 2 else 10) for n in range(40)))

    stored = await parts.stored()
    assert len(stored) == numbered == 20 * 1 + 20 * 10
    assert stored == sorted(stored)


async def test_a_failed_write_publishes_nothing_and_forgets_its_inbox_marks(
    parts: Parts,
) -> None:
    class Failed(Exception):
        pass

    with pytest.raises(Failed):
        async with parts.uow.writing() as tx:
            assert await tx.unseen("c", ["e1", "e2"]) == {"e1", "e2"}
            tx.emit(RunAbortRequested(run_id="never"))
            raise Failed

    assert await parts.stored() == []
    async with parts.uow.reading() as session:
        assert (await session.exec(select(InboxRow))).all() == []
        assert (await session.exec(select(OutboxRow))).all() == []
    async with parts.uow.writing() as tx:  # processed again, as a redelivery would be
        assert await tx.unseen("c", ["e1"]) == {"e1"}


async def test_a_batch_is_marked_once_and_an_event_twice_in_it_counts_once(
    parts: Parts,
) -> None:
    async with parts.uow.writing() as tx:
        assert await tx.unseen("c", ["e1", "e2", "e1"]) == {"e1", "e2"}
    async with parts.uow.writing() as tx:
        assert await tx.unseen("c", ["e2", "e3"]) == {"e3"}
        assert await tx.unseen("other-consumer", ["e2"]) == {"e2"}
        assert not await tx.seen("c", "e4")
        assert await tx.unseen("c", ["e4"]) == set()


async def test_a_batch_two_replicas_take_at_once_is_processed_by_one(parts: Parts) -> None:
    sessions = parts.uow.sessions
    async with sessions() as first, sessions() as second:
        assert await Tx(first).unseen("c", ["e1", "e2"]) == {"e1", "e2"}
        # The second waits for the first's transaction rather than failing or passing.
        waiting = await waits_for(second, first)
        racing = asyncio.create_task(Tx(second).unseen("c", ["e2", "e3"]))
        await eventually(waiting)
        assert not racing.done()
        await first.commit()
        assert await asyncio.wait_for(racing, 10) == {"e3"}
