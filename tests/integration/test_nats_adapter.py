"""The NATS adapter against a real nats-server, its fast path (nats-py internals) first."""

import uuid
from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker

from shared.bus import CUSTOM, EVENTS, Bus
from shared.nats_adapter import BATCH, NatsAdapter, NoStream, PublishError


@pytest.fixture
async def nats(nats_url: str) -> AsyncIterator[NatsAdapter]:
    broker = NatsBroker(nats_url)
    bus = Bus(broker, "tests/nats-adapter")
    await broker.connect()
    await bus.declare_streams()
    try:
        yield bus.nats
    finally:
        await broker.stop()


def message(n: int, stream: str = EVENTS.name) -> tuple[str, bytes, dict[str, str]]:
    headers = {"Nats-Msg-Id": f"m-{n}", "Nats-Expected-Stream": stream, "ce-id": f"m-{n}"}
    return "run.requested", b'{"n": %d}' % n, headers


async def stored(nats: NatsAdapter) -> int:
    return int((await nats.jetstream.stream_info(EVENTS.name)).state.messages)


async def test_a_pipelined_publish_stores_every_message_in_order_once(nats: NatsAdapter) -> None:
    messages = [message(n) for n in range(BATCH + 7)]  # more than one batch

    await nats.publish_pipelined(messages)
    assert await stored(nats) == len(messages)
    await nats.publish_pipelined(messages[:10])  # sent again: dropped as duplicates
    assert await stored(nats) == len(messages)

    last = await nats.jetstream.get_msg(EVENTS.name, seq=len(messages))
    assert last.data == messages[-1][1]
    assert last.headers is not None
    assert last.headers["ce-id"] == f"m-{len(messages) - 1}"


async def test_a_message_jetstream_refuses_fails_the_batch(nats: NatsAdapter) -> None:
    messages = [message(0), message(1, stream=CUSTOM.name), message(2)]

    with pytest.raises(PublishError, match="1 messages refused: expected stream does not match"):
        await nats.publish_pipelined(messages)
    assert await stored(nats) == 2


async def test_a_message_over_the_servers_limit_is_not_sent(nats: NatsAdapter) -> None:
    subject, _, headers = message(0)
    too_big = (subject, b"x" * (nats.max_payload + 1), headers)

    with pytest.raises(PublishError, match="exceeds the server's limit"):
        await nats.publish_pipelined([too_big])
    assert await stored(nats) == 0


async def test_a_subject_no_stream_keeps_is_refused(nats: NatsAdapter) -> None:
    with pytest.raises(NoStream):
        await nats.publish(f"nowhere.{uuid.uuid4().hex}", b"{}", {})
    where = await nats.publish("run.requested", b"{}", {})
    assert where == (EVENTS.name, 1, False)  # stored, not dropped as a duplicate
