"""The event bus: FastStream's NATS broker, JetStream streams, durable consumers, dead letters."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import BadRequestError, ServiceUnavailableError
from opentelemetry import propagate, trace

from shared.envelope import Envelope, EnvelopeError, body_for, headers_for, parse
from shared.events import Event
from shared.logs import handling

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Envelope[E]], Awaitable[None]]
BatchHandler = Callable[[list[Envelope[E]]], Awaitable[None]]

DAY = 24 * 3600


@dataclass(frozen=True)
class Stream:
    name: str
    subjects: tuple[str, ...]
    max_age_s: int
    max_bytes: int = -1
    dynamic: bool = False  # its subjects grow at run time: declared once, never reset


EVENTS = Stream(
    "BOXOPS_EVENTS",
    (
        "run.>",
        "dataset.>",
        "model.>",
        "component.>",
        "pipeline.>",
        "trigger.>",
        "artifact.>",
        "executor.run.>",
        "metric.below_threshold",
        "metric.above_threshold",
    ),
    max_age_s=14 * DAY,
)
TELEMETRY = Stream(
    "BOXOPS_TELEMETRY",
    ("log.>", "metric.logged", "metrics.logged", "executor.heartbeat"),
    max_age_s=2 * DAY,
    max_bytes=2 * 1024**3,
)
DEAD_LETTERS = Stream("BOXOPS_DLQ", ("dlq.>",), max_age_s=90 * DAY)
# Subjects of other systems that triggers listen on; the trigger service adds them.
CUSTOM = Stream("BOXOPS_CUSTOM", ("ext.>",), max_age_s=14 * DAY, dynamic=True)
STREAMS = (EVENTS, TELEMETRY, DEAD_LETTERS, CUSTOM)


def stream_of(subject: str) -> Stream:
    for stream in STREAMS:
        for pattern in stream.subjects:
            if _matches(pattern, subject):
                return stream
    raise LookupError(f"no boxops stream holds subject {subject!r}")


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    if p[-1] == ">":
        return len(s) >= len(p) and all(a in ("*", b) for a, b in zip(p[:-1], s, strict=False))
    return len(p) == len(s) and all(a in ("*", b) for a, b in zip(p, s, strict=True))


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> datetime:
    return datetime.now(UTC)


def stored_at(raw: Any) -> datetime:
    """When JetStream stored the message: the time of an event that came without one."""
    metadata = getattr(raw, "metadata", None)
    stamp = getattr(metadata, "timestamp", None)
    return stamp.astimezone(UTC) if isinstance(stamp, datetime) else now()


class PullLoop:
    """A durable pull consumer, read by our own loop rather than FastStream's subscriber
    (whose per-message middleware and injection cost more than most of our handlers).

    It blocks for the first message (so a lone message is handled at once) and, for a
    batch consumer, then takes whatever else is waiting, up to `batch_size`. One delivery
    at a time: messages stay in order and replicas share the durable consumer.
    """

    def __init__(
        self,
        subject: str,
        stream: str,
        config: ConsumerConfig,
        batch_size: int,
        deliver: Callable[[list[Any]], Awaitable[None]],
    ) -> None:
        self.subject, self.stream, self.config = subject, stream, config
        self.batch_size, self.deliver = batch_size, deliver
        self.running = False
        self.task: asyncio.Task[None] | None = None
        self.delivering = False
        # Everything stored before this moment has been handed to `deliver`.
        self.caught_up_at: datetime | None = None

    async def start(self, js: Any) -> None:
        # Create or update: a consumer made by an older version takes today's subjects.
        await js.add_consumer(self.stream, self.config)
        self.subscription = await js.pull_subscribe(
            self.subject, durable=self.config.durable_name, stream=self.stream, config=self.config
        )
        self.running = True
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Let the delivery in hand finish (it is acked); a wait for messages ends at once
        (one that arrives in the meantime is redelivered after its ack wait)."""
        self.running = False
        if self.task:
            if not self.delivering:
                self.task.cancel()
            done, _ = await asyncio.wait({self.task}, timeout=15)
            if not done:
                self.task.cancel()  # its unacked messages are redelivered
        with contextlib.suppress(Exception):  # the connection may be gone already
            await self.subscription.unsubscribe()

    async def _loop(self) -> None:
        while self.running:
            fetched_at = now()
            try:
                batch = await self._fetch()
            except (TimeoutError, NatsTimeoutError):
                self.caught_up_at = fetched_at
                continue
            except (ConnectionClosedError, ServiceUnavailableError):
                await asyncio.sleep(0.5)  # reconnecting: try again shortly
                continue
            except Exception:
                # The consumer gone, a server error: the loop must outlive it.
                log.exception("fetching from %s failed", self.subject)
                await asyncio.sleep(1.0)
                continue
            self.delivering = True
            try:
                await self.deliver(batch)
            except Exception:
                # Not acked: redelivered after ack_wait. The loop must go on.
                log.exception("delivering from %s failed", self.subject)
                continue
            finally:
                self.delivering = False
            pending = getattr(batch[-1].metadata, "num_pending", None)
            if pending == 0:  # the stream held nothing more for us when this was sent
                self.caught_up_at = fetched_at

    async def _fetch(self) -> list[Any]:
        first: list[Any] = await self.subscription.fetch(1, timeout=1.0)
        if self.batch_size == 1 or not getattr(first[0].metadata, "num_pending", 1):
            return first
        with contextlib.suppress(TimeoutError, NatsTimeoutError):  # more is waiting: take it
            return first + await self.subscription.fetch(self.batch_size - 1, timeout=0.005)
        return first


class Bus:
    """Publishes envelopes and subscribes idempotency-ready handlers for one service."""

    def __init__(self, broker: NatsBroker, source: str, tracer: trace.Tracer | None = None) -> None:
        self.broker = broker
        self.source = source
        self.tracer = tracer or trace.get_tracer("boxops.bus")
        self.loops: list[PullLoop] = []

    async def declare_streams(self) -> None:
        """Create or update the streams; safe to run from every service at every start."""
        js = self.broker.config.connection_state.stream  # type: ignore[attr-defined]
        for stream in STREAMS:
            config = StreamConfig(
                name=stream.name,
                subjects=list(stream.subjects),
                max_age=stream.max_age_s,
                max_bytes=stream.max_bytes,
                duplicate_window=120,
            )
            try:
                await js.add_stream(config)
            except BadRequestError:
                if not stream.dynamic:
                    await js.update_stream(config)

    def envelope(self, data: E, *, id: str | None = None, depth: int = 0) -> Envelope[E]:
        return Envelope(
            id=id or new_id(), source=self.source, time=now(), data=data, causation_depth=depth
        )

    async def publish(self, data: Event, *, id: str | None = None) -> str:
        envelope = self.envelope(data, id=id)
        await self.publish_raw(data.nats_subject(), body_for(envelope), headers_for(envelope))
        return envelope.id

    async def publish_raw(self, subject: str, body: bytes, headers: dict[str, str]) -> None:
        await self.broker.publish(
            body, subject, headers=headers, stream=stream_of(subject).name, timeout=5.0
        )

    async def dead_letter(
        self, subject: str, body: bytes, headers: dict[str, str], reason: str
    ) -> None:
        dlq_headers = {k: v for k, v in headers.items() if k.lower() != "nats-msg-id"}
        dlq_headers["boxops-dlq-reason"] = reason[:4000]
        dlq_headers["boxops-dlq-consumer"] = self.source
        log.warning("dead-lettered %s: %s", subject, reason)
        await self.broker.publish(
            body, f"dlq.{subject}", headers=dlq_headers, stream=DEAD_LETTERS.name, timeout=5.0
        )

    def consume(
        self,
        model: type[E] | tuple[type[Event], ...],
        *,
        durable: str,
        subject: str | None = None,
        max_deliver: int = 5,
        deliver_new_only: bool = False,
        stream: Stream | None = None,
    ) -> Callable[[Handler[E]], Handler[E]]:
        """Subscribe `handler(envelope)` to a durable consumer with explicit acks.

        Unparseable messages go to dlq.<subject> with the reason; a handler that raises is
        redelivered with backoff, and after `max_deliver` attempts is dead-lettered too.
        """
        models = model if isinstance(model, tuple) else (model,)
        subject = subject or models[0].subject
        config = ConsumerConfig(
            name=durable,
            durable_name=durable,
            filter_subject=subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW if deliver_new_only else DeliverPolicy.ALL,
            max_deliver=max_deliver + 1,  # one spare: the last delivery dead-letters, never drops
            ack_wait=10,  # a handler is a few DB writes; a stranded message returns in 10 s
            max_ack_pending=1000,
        )

        def decorate(handler: Handler[E]) -> Handler[E]:
            async def deliver(raws: list[Any]) -> None:
                for raw in raws:
                    await self._deliver(models, handler, raw, max_deliver)

            # One message per fetch: a stopping service strands at most the one it fetched.
            self._pull(subject, stream, config, 1, deliver)
            return handler

        return decorate

    def consume_batch(
        self,
        model: type[E] | tuple[type[Event], ...],
        *,
        durable: str,
        batch_size: int = 500,
        max_deliver: int = 5,
        subject: str | None = None,
        stream: Stream | None = None,
        idle: Callable[[], bool] | None = None,
    ) -> Callable[[BatchHandler[E]], BatchHandler[E]]:
        """Like `consume`, for high-volume subjects: `handler(envelopes)` gets what is
        waiting (up to `batch_size`) at once, so it can write it in one transaction.
        Several models: one consumer of all their subjects, in the order they were stored.
        While `idle()` is true the handler would do nothing with any message: they are
        acked unread (a trigger service with no monitor parsed every metric for nothing)."""
        models = model if isinstance(model, tuple) else (model,)
        subjects = [subject] if subject else [m.subject for m in models]
        config = ConsumerConfig(
            name=durable,
            durable_name=durable,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
            ack_policy=AckPolicy.EXPLICIT,
            max_deliver=max_deliver + 1,
            ack_wait=30,
            max_ack_pending=20 * batch_size,
        )

        def decorate(handler: BatchHandler[E]) -> BatchHandler[E]:
            async def deliver(raws: list[Any]) -> None:
                if idle and idle():
                    for raw in raws:
                        await raw.ack()
                    return
                await self._deliver_batch(models, handler, raws, max_deliver)

            self._pull(subjects[0], stream, config, batch_size, deliver)
            return handler

        return decorate

    def _pull(
        self,
        subject: str,
        stream: Stream | None,
        config: ConsumerConfig,
        batch_size: int,
        deliver: Callable[[list[Any]], Awaitable[None]],
    ) -> None:
        name = (stream or stream_of(subject.replace("*", "x"))).name
        self.loops.append(PullLoop(subject, name, config, batch_size, deliver))

    async def start_consumers(self) -> None:
        js = self.broker.config.connection_state.stream  # type: ignore[attr-defined]
        for loop in self.loops:
            await loop.start(js)

    async def stop_consumers(self) -> None:
        await asyncio.gather(*(loop.stop() for loop in self.loops))

    async def _deliver_batch(
        self,
        models: tuple[type[Event], ...],
        handler: BatchHandler[Any],
        raws: list[Any],
        max_deliver: int,
    ) -> None:
        envelopes, accepted = [], []
        for raw in raws:
            headers = dict(raw.headers or {})
            try:
                envelopes.append(
                    parse(
                        _model_of(models, raw.subject),
                        headers,
                        raw.data,
                        new_id=new_id(),
                        now=stored_at(raw),
                        subject=raw.subject,
                    )
                )
                accepted.append(raw)
            except EnvelopeError as err:
                # Retrying cannot make it parse: keep it in the DLQ stream and move on.
                await self.dead_letter(raw.subject, raw.data, headers, str(err))
                await raw.ack()
        if not envelopes:
            return
        with handling(envelopes):
            try:
                with self._span(accepted[0].subject, accepted):
                    await handler(envelopes)
            except Exception as err:
                log.exception("batch handler failed on %s", accepted[0].subject)
                for raw in accepted:
                    await self._retry_or_dead_letter(raw, err, max_deliver)
                return
        for raw in accepted:
            await raw.ack()  # the batch committed (idempotently keyed by event id): done

    def _span(self, subject: str, raws: list[Any]) -> Any:
        """A processing span in the first message's trace, linked to the others', so a lone
        message (the interactive case) keeps one trace from its producer onwards."""
        contexts = [propagate.extract(dict(raw.headers or {})) for raw in raws]
        links = [trace.Link(trace.get_current_span(c).get_span_context()) for c in contexts[1:]]
        attributes: dict[str, str | int] = {
            "messaging.system": "nats",
            "messaging.operation": "process",
            "messaging.destination_publish.name": subject,
            "messaging.batch.message_count": len(raws),
        }
        return self.tracer.start_as_current_span(
            f"{subject} process",
            context=contexts[0],
            kind=trace.SpanKind.CONSUMER,
            links=links,
            attributes=attributes,
        )

    async def _retry_or_dead_letter(self, raw: Any, err: Exception, max_deliver: int) -> None:
        attempt = raw.metadata.num_delivered if raw.metadata else 1
        if attempt >= max_deliver:
            # Out of retries: the DLQ keeps it with the reason, the consumer goes on.
            reason = f"handler failed {attempt} times: {type(err).__name__}: {err}"
            await self.dead_letter(raw.subject, raw.data, dict(raw.headers or {}), reason)
            await raw.ack()
        else:
            # A transient failure (database busy, NATS blip): redeliver after a backoff.
            await raw.nak(delay=min(0.2 * 2**attempt, 10.0))

    async def _deliver(
        self,
        models: tuple[type[Event], ...],
        handler: Handler[Any],
        raw: Any,
        max_deliver: int,
    ) -> None:
        headers = dict(raw.headers or {})
        model = _model_of(models, raw.subject)
        try:
            envelope = parse(
                model, headers, raw.data, new_id=new_id(), now=stored_at(raw), subject=raw.subject
            )
        except EnvelopeError as err:
            # Retrying cannot make it parse: keep it in the DLQ stream and move on.
            await self.dead_letter(raw.subject, raw.data, headers, str(err))
            await raw.ack()
            return
        with handling([envelope]):
            try:
                with self._span(raw.subject, [raw]):
                    await handler(envelope)
            except Exception as err:
                log.exception("handler failed on %s", raw.subject)
                await self._retry_or_dead_letter(raw, err, max_deliver)
                return
        await raw.ack()  # the effect committed (with its inbox row): done


def _model_of(models: tuple[type[Event], ...], subject: str) -> type[Event]:
    return next((m for m in models if subject.startswith(m.subject)), models[0])
