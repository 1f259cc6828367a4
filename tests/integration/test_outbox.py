"""The outbox on a real database and a real JetStream: publish after commit, relay after a crash."""

import asyncio
import json
from datetime import timedelta

from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus import EVENTS, Bus, now
from shared.events import RunAbortRequested
from shared.nats_adapter import NatsAdapter
from shared.outbox import Outbox, already_processed, stage
from tests.conftest import eventually
from tests.integration.db_waits import waits_for


async def stream_messages(broker: NatsBroker) -> int:
    js = NatsAdapter(broker).jetstream
    return int((await js.stream_info(EVENTS.name)).state.messages)


async def test_rows_a_crash_left_unpublished_are_relayed_once(
    nats_url: str, outbox_sessions: async_sessionmaker[AsyncSession]
) -> None:
    broker = NatsBroker(nats_url)
    bus = Bus(broker, "test")
    await broker.connect()
    await bus.declare_streams()
    outbox = Outbox(outbox_sessions, bus.publish_raw)
    try:
        envelopes = [bus.envelope(RunAbortRequested(run_id=f"r{i}")) for i in range(3)]
        async with outbox_sessions() as session:
            ids = [row.id for row in await stage(session, envelopes, now=envelopes[0].time)]
            await session.commit()  # ...and the process dies before publishing

        assert await stream_messages(broker) == 0
        assert await outbox.relay_once(older_than=timedelta(0)) == 3
        assert await stream_messages(broker) == 3
        assert await outbox.relay_once(older_than=timedelta(0)) == 0

        js = NatsAdapter(broker).jetstream
        last = await js.get_last_msg(EVENTS.name, "run.abort.requested")
        assert json.loads(last.data)["run_id"] == "r2"  # published in commit order

        # A publish racing the relay re-sends the same ids: JetStream drops the duplicates.
        for row_id in ids:
            await bus.publish(RunAbortRequested(run_id="r-dup"), id=row_id)
        assert await stream_messages(broker) == 3
    finally:
        await broker.stop()


async def test_the_inbox_remembers_an_event_only_once_it_commits(
    outbox_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = outbox_sessions
    async with sessions() as session:
        assert not await already_processed(session, "c", "e1", now=now())
        await session.rollback()  # the effect failed: the event must be processed again
    async with sessions() as session:
        assert not await already_processed(session, "c", "e1", now=now())
        await session.commit()
    async with sessions() as session:
        assert await already_processed(session, "c", "e1", now=now())
        assert not await already_processed(session, "other-consumer", "e1", now=now())


async def test_an_event_two_replicas_take_at_once_is_processed_by_one(
    outbox_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = outbox_sessions
    async with sessions() as first, sessions() as second:
        assert not await already_processed(first, "c", "e1", now=now())
        # The second waits for the first's transaction rather than failing or passing.
        waiting = await waits_for(second, first)
        racing = asyncio.create_task(already_processed(second, "c", "e1", now=now()))
        await eventually(waiting)
        assert not racing.done()
        await first.commit()
        assert await asyncio.wait_for(racing, 10)
