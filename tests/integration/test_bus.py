"""The bus on a real nats-server: streams, dedupe by event id, dead letters, retries, shapes."""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from faststream.nats import NatsBroker
from nats.js.api import ConsumerConfig

from shared.bus import DEAD_LETTERS, EVENTS, STREAMS, TELEMETRY, Bus
from shared.envelope import STRUCTURED, Envelope
from shared.events import MetricLogged, MetricPoint, MetricsLogged, RunRequested
from shared.service import build_service
from shared.settings import BoxopsSettings
from tests.conftest import eventually

DLQ_SUBJECT = "dlq.run.requested"
VALID = json.dumps({"command": ["true"], "run_id": "valid"}).encode()


@asynccontextmanager
async def running(broker: NatsBroker, bus: Bus) -> AsyncIterator[Any]:
    """Connect, declare, start the consumers; yields the JetStream context."""
    await broker.connect()
    await bus.declare_streams()
    await broker.start()
    await bus.start_consumers()
    try:
        yield bus.nats.jetstream
    finally:
        await bus.stop_consumers()
        await broker.stop()


def a_bus(nats_url: str) -> tuple[NatsBroker, Bus]:
    broker = NatsBroker(nats_url)
    return broker, Bus(broker, "tests/bus")


async def publish(broker: NatsBroker, body: bytes, headers: dict[str, str] | None = None) -> None:
    await broker.publish(body, "run.requested", headers=headers or {}, stream=EVENTS.name)


async def message_count(js: Any, stream: str) -> int:
    return int((await js.stream_info(stream)).state.messages)


async def dead_letters(js: Any) -> list[Any]:
    info = await js.stream_info(DEAD_LETTERS.name)
    return [
        await js.get_msg(DEAD_LETTERS.name, seq=seq)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
        if info.state.messages
    ]


async def until(condition: Callable[[], object]) -> None:
    async def check() -> object:
        return condition()

    await eventually(check)


async def wait_for_dead_letters(js: Any, count: int) -> list[Any]:
    async def check() -> list[Any] | None:
        letters = await dead_letters(js)
        return letters if len(letters) >= count else None

    return await eventually(check)  # type: ignore[return-value]


def reason(letter: Any) -> str:
    return str(letter.headers["boxops-dlq-reason"])


class Received:
    """A handler that records what reached it; raises for runs named in `poison`."""

    def __init__(self, *poison: str) -> None:
        self.envelopes: list[Envelope[RunRequested]] = []
        self.attempts: dict[str, int] = {}
        self.poison = set(poison)

    async def handle(self, envelope: Envelope[RunRequested]) -> None:
        run_id = envelope.data.run_id or envelope.id
        self.attempts[run_id] = self.attempts.get(run_id, 0) + 1
        if run_id in self.poison:
            raise RuntimeError(f"cannot handle {run_id}")
        self.envelopes.append(envelope)

    def run_ids(self) -> list[str | None]:
        return [e.data.run_id for e in self.envelopes]


async def test_streams_declare_idempotently_from_any_number_of_services(nats_url: str) -> None:
    broker, bus = a_bus(nats_url)
    other_broker, other = a_bus(nats_url)
    async with running(broker, bus) as js:
        await bus.declare_streams()
        await other_broker.connect()
        try:
            await other.declare_streams()
        finally:
            await other_broker.stop()

        for stream in STREAMS:
            info = await js.stream_info(stream.name)
            assert info.config.subjects == list(stream.subjects)
        names = {info.config.name for info in await js.streams_info()}
        assert names == {stream.name for stream in STREAMS}


async def test_publishing_the_same_event_id_twice_stores_one_message(nats_url: str) -> None:
    broker, bus = a_bus(nats_url)
    async with running(broker, bus) as js:
        first = await bus.publish(RunRequested(command=["true"]), id="ev-same")
        second = await bus.publish(RunRequested(command=["false"]), id="ev-same")
        assert first == second == "ev-same"
        assert await message_count(js, EVENTS.name) == 1

        await bus.publish(RunRequested(command=["true"]))
        await bus.publish(RunRequested(command=["true"]))
        assert await message_count(js, EVENTS.name) == 3

        stored = await js.get_msg(EVENTS.name, seq=1)
        assert json.loads(stored.data)["command"] == ["true"]  # the first one won
        assert stored.headers["Nats-Msg-Id"] == stored.headers["ce-id"] == "ev-same"


async def test_unparseable_messages_are_dead_lettered_with_the_reason_and_the_next_one_served(
    nats_url: str,
) -> None:
    broker, bus = a_bus(nats_url)
    received = Received()
    bus.consume(RunRequested, durable="t-bad")(received.handle)
    bad = [
        (b"", {}, "empty body"),
        (b"not json {", {}, "body is not JSON"),
        (b"[1, 2, 3]", {}, "data must be a JSON object, got list"),
        (b'{"command": []}', {}, "run.requested: command: "),
        (b"{}", {}, "give exactly one of command, component or pipeline"),
        (b'["x"]', {"content-type": STRUCTURED}, "must be a JSON object, got list"),
        (VALID, {"ce-specversion": "1.0", "ce-time": "noon"}, "time is not an RFC 3339"),
    ]
    async with running(broker, bus) as js:
        for body, headers, _ in bad:
            await publish(broker, body, headers)
        await publish(broker, VALID)

        await until(lambda: received.run_ids() == ["valid"])
        letters = await wait_for_dead_letters(js, len(bad))

        assert [letter.subject for letter in letters] == [DLQ_SUBJECT] * len(bad)
        for letter, (body, _, why) in zip(letters, bad, strict=True):
            assert (letter.data or b"") == body
            assert why in reason(letter), (why, reason(letter))
            assert letter.headers["boxops-dlq-consumer"] == "tests/bus"
        assert received.run_ids() == ["valid"]


async def test_a_handler_that_keeps_failing_is_retried_then_dead_lettered(
    nats_url: str,
) -> None:
    broker, bus = a_bus(nats_url)
    received = Received("poison")
    bus.consume(RunRequested, durable="t-fail", max_deliver=3)(received.handle)
    async with running(broker, bus) as js:
        poison = json.dumps({"command": ["true"], "run_id": "poison"}).encode()
        await publish(broker, poison, {"Nats-Msg-Id": "ev-poison"})
        await publish(broker, VALID)

        [letter] = await wait_for_dead_letters(js, 1)

        assert letter.subject == DLQ_SUBJECT
        assert letter.data == poison
        assert "handler failed 3 times" in reason(letter)
        assert "RuntimeError: cannot handle poison" in reason(letter)
        assert letter.headers["Nats-Msg-Id"] == f"dlq:{EVENTS.name}.1"  # where it was stored
        assert received.attempts["poison"] == 3
        assert received.run_ids() == ["valid"]

        later = json.dumps({"command": ["true"], "run_id": "later"}).encode()
        await publish(broker, later)
        await until(lambda: received.run_ids() == ["valid", "later"])
        assert received.attempts["poison"] == 3
        assert await message_count(js, DEAD_LETTERS.name) == 1


async def test_a_message_two_consumers_reject_is_dead_lettered_once(nats_url: str) -> None:
    broker, bus = a_bus(nats_url)
    first, second = Received(), Received()
    bus.consume(RunRequested, durable="t-first")(first.handle)
    bus.consume(RunRequested, durable="t-second")(second.handle)
    async with running(broker, bus) as js:
        await publish(broker, b"not json {")
        await publish(broker, b"{}")
        await publish(broker, VALID)  # the marker: once both have it, both read the bad ones
        await until(lambda: first.run_ids() == second.run_ids() == ["valid"])

        letters = await dead_letters(js)
        assert [reason(letter).split(":")[0] for letter in letters] == [
            "body is not JSON",
            "run.requested",
        ]
        assert [letter.headers["Nats-Msg-Id"] for letter in letters] == [
            f"dlq:{EVENTS.name}.1",
            f"dlq:{EVENTS.name}.2",
        ]


async def test_the_dead_letter_stream_is_bounded_by_age_and_size(nats_url: str) -> None:
    settings = BoxopsSettings(nats_url=nats_url, dlq_max_age_s=3600, dlq_max_bytes=1024**2)
    service = build_service("tests", settings, None)
    await service.broker.connect()
    try:
        await service.bus.declare_streams()
        config = (await service.bus.nats.jetstream.stream_info(DEAD_LETTERS.name)).config
    finally:
        await service.broker.stop()
    assert (config.max_age, config.max_bytes) == (3600, 1024**2)
    defaults = BoxopsSettings()
    assert (defaults.dlq_max_age_s, defaults.dlq_max_bytes) == (30 * 24 * 3600, 1024**3)


async def test_a_handler_that_fails_once_is_retried_and_not_dead_lettered(
    nats_url: str,
) -> None:
    broker, bus = a_bus(nats_url)
    received = Received("flaky")

    async def flaky(envelope: Envelope[RunRequested]) -> None:
        if received.attempts.get("flaky", 0) >= 1:
            received.poison.discard("flaky")
        await received.handle(envelope)

    bus.consume(RunRequested, durable="t-flaky")(flaky)
    async with running(broker, bus) as js:
        body = json.dumps({"command": ["true"], "run_id": "flaky"}).encode()
        await publish(broker, body)

        await until(lambda: received.run_ids() == ["flaky"])
        assert received.attempts["flaky"] == 2
        assert await message_count(js, DEAD_LETTERS.name) == 0


async def test_bare_structured_and_binary_messages_all_reach_the_handler(nats_url: str) -> None:
    broker, bus = a_bus(nats_url)
    received = Received()
    bus.consume(RunRequested, durable="t-shapes")(received.handle)
    structured = {
        "specversion": "1.0",
        "id": "ev-structured",
        "source": "other/system",
        "type": "dev.boxops.run.requested",
        "time": "2026-01-01T10:00:00Z",
        "data": {"command": ["echo", "structured"], "run_id": "structured"},
    }
    binary_headers = {
        "ce-specversion": "1.0",
        "ce-id": "ev-binary",
        "ce-source": "another/system",
        "ce-type": "dev.boxops.run.requested",
        "ce-time": "2026-01-01T11:00:00Z",
        "content-type": "application/json",
    }
    async with running(broker, bus) as js:
        bare = {"command": ["echo", "bare"], "run_id": "bare", "unknown": 1}
        await publish(broker, json.dumps(bare).encode(), {"Nats-Msg-Id": "ev-bare"})
        await publish(broker, json.dumps(structured).encode())
        await publish(
            broker,
            json.dumps({"command": ["echo", "binary"], "run_id": "binary"}).encode(),
            binary_headers,
        )
        await publish(
            broker,
            json.dumps(
                {"specversion": "1.0", "data": {"command": ["x"], "run_id": "typed"}}
            ).encode(),
            {"content-type": STRUCTURED},
        )

        await until(lambda: len(received.envelopes) == 4)

        by_run = {e.data.run_id: e for e in received.envelopes}
        assert (by_run["bare"].id, by_run["bare"].source) == ("ev-bare", "external")
        assert (by_run["structured"].id, by_run["structured"].source) == (
            "ev-structured",
            "other/system",
        )
        assert by_run["structured"].time.hour == 10
        assert (by_run["binary"].id, by_run["binary"].source) == ("ev-binary", "another/system")
        assert by_run["binary"].time.hour == 11
        assert by_run["typed"].data.command == ["x"]
        assert [e.data.command[1] for e in received.envelopes[:3]] == [
            "bare",
            "structured",
            "binary",
        ]
        assert await message_count(js, DEAD_LETTERS.name) == 0


async def test_a_batch_consumer_of_two_subjects_gets_both_in_stored_order(nats_url: str) -> None:
    broker, bus = a_bus(nats_url)
    await broker.connect()
    await bus.declare_streams()
    js = bus.nats.jetstream
    # What an older version left: the same durable consumer, on metric.logged alone.
    old = ConsumerConfig(durable_name="tests-metrics", filter_subject=MetricLogged.subject)
    await js.add_consumer(TELEMETRY.name, old)
    got: list[Envelope[Any]] = []

    async def handle(envelopes: list[Envelope[Any]]) -> None:
        got.extend(envelopes)

    bus.consume_batch((MetricLogged, MetricsLogged), durable="tests-metrics")(handle)
    await bus.publish(MetricLogged(name="acc", value=0.5))
    await bus.publish(MetricsLogged(points=[MetricPoint(name="acc", value=0.6)] * 3))
    await bus.publish(MetricLogged(name="acc", value=0.7))
    await bus.start_consumers()
    try:
        await until(lambda: len(got) == 3)
    finally:
        await bus.stop_consumers()
        await broker.stop()

    assert [type(e.data) for e in got] == [MetricLogged, MetricsLogged, MetricLogged]
    assert len(got[1].data.points) == 3


async def test_an_idle_batch_consumer_acks_unread_and_hands_on_what_comes_once_busy(
    nats_url: str,
) -> None:
    broker, bus = a_bus(nats_url)
    await broker.connect()
    await bus.declare_streams()
    js = bus.nats.jetstream
    got: list[Envelope[Any]] = []
    idle = True

    async def handle(envelopes: list[Envelope[Any]]) -> None:
        got.extend(envelopes)

    bus.consume_batch(MetricLogged, durable="tests-idle", idle=lambda: idle)(handle)
    await bus.start_consumers()
    try:
        # Read, this one would be a dead letter; unread, it is acked with the good one.
        await broker.publish(b"not json {", MetricLogged.subject, stream=TELEMETRY.name)
        await bus.publish(MetricLogged(name="acc", value=0.5))

        async def all_acked() -> bool:
            info = await js.consumer_info(TELEMETRY.name, "tests-idle")
            return bool(info.ack_floor.stream_seq == 2 and not info.num_ack_pending)

        await eventually(all_acked)
        idle = False
        await bus.publish(MetricLogged(name="acc", value=0.7))
        await until(lambda: got)
        assert await message_count(js, DEAD_LETTERS.name) == 0
    finally:
        await bus.stop_consumers()
        await broker.stop()

    assert [e.data.value for e in got] == [0.7]
