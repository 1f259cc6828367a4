"""The event bus: FastStream's NATS broker, JetStream streams, durable consumers, dead letters."""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from opentelemetry import propagate, trace

from shared.envelope import Envelope, EnvelopeError, body_for, headers_for, parse
from shared.events import Event
from shared.logs import handling
from shared.nats_adapter import NatsAdapter, PullLoop
from shared.publish_retries import until_stored
from shared.settings import DLQ_MAX_AGE_S, DLQ_MAX_BYTES, DUPLICATE_WINDOW_S

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
        "alert.>",
    ),
    max_age_s=14 * DAY,
)
TELEMETRY = Stream(
    "BOXOPS_TELEMETRY",
    ("log.>", "metric.logged", "metrics.logged", "executor.heartbeat"),
    max_age_s=2 * DAY,
    max_bytes=2 * 1024**3,
)
# Bounded by age and size (settings `dlq_max_age_s`, `dlq_max_bytes`): the oldest go first.
DEAD_LETTERS = Stream("BOXOPS_DLQ", ("dlq.>",), max_age_s=DLQ_MAX_AGE_S, max_bytes=DLQ_MAX_BYTES)
DLQ_PREFIX = "dlq."
REASON = "boxops-dlq-reason"  # headers a dead letter gets beside its own
REJECTED_BY = "boxops-dlq-consumer"
# Other systems' subjects, which triggers listen on. Dynamic: subjects that trigger services
# added to it before custom subjects were ext.… ones stay, for triggers still naming them.
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


class MissingStreams(RuntimeError):
    """The streams a service of an authorized bus expects were not declared."""


class Bus:
    """Publishes envelopes and subscribes idempotency-ready handlers for one service."""

    def __init__(
        self,
        broker: NatsBroker,
        source: str,
        tracer: trace.Tracer | None = None,
        *,
        dead_letters: Stream = DEAD_LETTERS,
    ) -> None:
        self.broker = broker
        self.nats = NatsAdapter(broker)
        self.source = source
        self.tracer = tracer or trace.get_tracer("boxops.bus")
        self.loops: list[PullLoop] = []
        # Durables `start_consumers` leaves alone: a scheduler starts them while it leads.
        self.held: set[str] = set()
        self.dead_letters = dead_letters

    async def declare_streams(self, replicas: int = 1) -> None:
        """Create or update the streams, each kept by `replicas` servers of a cluster (their
        durable consumers as many: the server's default): the operator's identity does before
        services start (a service may not), or a service on a bus without authorization."""
        for stream in STREAMS:
            stream = self.dead_letters if stream.name == DEAD_LETTERS.name else stream
            config = StreamConfig(
                name=stream.name,
                subjects=list(stream.subjects),
                max_age=stream.max_age_s,
                max_bytes=stream.max_bytes,
                duplicate_window=DUPLICATE_WINDOW_S,
                num_replicas=replicas,
            )
            await self.nats.declare_stream(config, dynamic=stream.dynamic)

    async def check_streams(self) -> None:
        """Raise, naming them, if streams are missing (a service of an authorized bus may
        only look: the operator declares them)."""
        missing = [s.name for s in STREAMS if not await self.nats.stream_exists(s.name)]
        if missing:
            raise MissingStreams(
                f"JetStream streams missing: {', '.join(missing)}; the bus's operator declares "
                "them before services start (`boxops up` does; in docker-compose.yml, "
                "bus-streams)"
            )

    def envelope(self, data: E, *, id: str | None = None, depth: int = 0) -> Envelope[E]:
        return Envelope(
            id=id or new_id(), source=self.source, time=now(), data=data, causation_depth=depth
        )

    async def publish(self, data: Event, *, id: str | None = None) -> str:
        envelope = self.envelope(data, id=id)
        await self.publish_raw(data.nats_subject(), body_for(envelope), headers_for(envelope))
        return envelope.id

    async def publish_raw(self, subject: str, body: bytes, headers: dict[str, str]) -> None:
        """Publish until JetStream stores it, through a leader election (`until_stored`):
        the headers carry the envelope's `Nats-Msg-Id`, so a second copy is dropped."""
        stream = stream_of(subject).name

        def publish() -> Awaitable[Any]:
            return self.broker.publish(body, subject, headers=headers, stream=stream, timeout=5.0)

        await until_stored(publish, subject)

    async def dead_letter(
        self,
        subject: str,
        body: bytes,
        headers: dict[str, str],
        reason: str,
        *,
        origin: str | None = None,
    ) -> None:
        """Keep a message with the reason in `dlq.<subject>`, once per message: every
        consumer of a bad message rejects it, and JetStream drops all but the first copy
        by the id derived from `origin` (where it was stored: a replayed copy is stored
        anew, so refused again it is kept again). Without an origin, every call is kept."""
        dlq_headers = {k: v for k, v in headers.items() if k.lower() != "nats-msg-id"}
        dlq_headers[REASON] = reason[:4000]
        dlq_headers[REJECTED_BY] = self.source
        dlq_headers["Nats-Msg-Id"] = "dlq:" + (origin or new_id())
        log.warning("dead-lettered %s: %s", subject, reason)

        def publish() -> Awaitable[Any]:
            return self.broker.publish(
                body,
                DLQ_PREFIX + subject,
                headers=dlq_headers,
                stream=DEAD_LETTERS.name,
                timeout=5.0,
            )

        await until_stored(publish, DLQ_PREFIX + subject)

    async def reject(self, raw: Any, reason: str) -> None:
        """Dead-letter a message as it was delivered, then ack it: the consumer goes on."""
        await self.dead_letter(
            raw.subject, raw.data, dict(raw.headers or {}), reason, origin=_origin(raw)
        )
        await raw.ack()

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
        for loop in self.loops:
            if loop.config.durable_name in self.held:
                await loop.declare(self.nats)  # what comes meanwhile waits for its reader
            else:
                await loop.start(self.nats)

    async def start_held(self) -> None:
        """Start the consumers `held` names (each may be stopped and started again)."""
        for loop in self.loops:
            if loop.config.durable_name in self.held:
                await loop.start(self.nats)

    async def stop_held(self) -> None:
        """Stop the consumers `held` names: what they have not taken waits in its stream."""
        await asyncio.gather(
            *(loop.stop() for loop in self.loops if loop.config.durable_name in self.held)
        )

    async def stop_consumers(self) -> None:
        await asyncio.gather(*(loop.stop() for loop in self.loops))

    async def stop_consumer(self, durable: str) -> None:
        """Stop one consumer ahead of the others; what it has not taken waits in its stream."""
        await asyncio.gather(
            *(loop.stop() for loop in self.loops if loop.config.durable_name == durable)
        )

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
                await self.reject(raw, str(err))
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
            await self.reject(raw, f"handler failed {attempt} times: {type(err).__name__}: {err}")
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
            await self.reject(raw, str(err))
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


def _origin(raw: Any) -> str | None:
    """Where JetStream stored the message: the same for every consumer that reads it."""
    metadata = getattr(raw, "metadata", None)
    if metadata is None or metadata.sequence is None:
        return None
    return f"{metadata.stream}.{metadata.sequence.stream}"
