"""The one module that touches the NATS client: connection, JetStream context, pull loops
and pipelined acked publishes. The services call the surface below (or FastStream's
broker, for plain publishes, requests and subscribers), never a library's internals.

The client is the broker's own, through public accessors: FastStream 0.7's
`NatsBroker.connection` and nats-py's `Client.jetstream()`. A second connection owned
here would cost every service another socket, and a publish on one could overtake an
earlier one on the other (the outbox relies on its order), so there is one.

One fast path uses nats-py internals: `publish_pipelined` puts each command in the
client's buffer itself (`_send_command(hpub_cmd(…))`). The public `Client.publish`
validates and encodes every header of every message and schedules a flush per call:
50,000 acked publishes, six interleaved rounds on a busy machine, medians 26k/s public
against 40k/s here (again: 17k/s against 42k/s). nats-py is pinned below its next minor
for it, and tests/integration/test_nats_adapter.py runs it against a real server.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RawStreamMsg, StreamConfig
from nats.js.errors import (
    BadRequestError,
    NoStreamResponseError,
    NotFoundError,
    ServiceUnavailableError,
)
from nats.protocol.command import hpub_cmd

log = logging.getLogger(__name__)

T = TypeVar("T")
Message = tuple[str, bytes, dict[str, str]]  # subject, body, headers

BATCH = 5000
ACK_TIMEOUT_S = 10.0
SEQUENCE_NOT_FOUND = 10043  # JetStream's error code for deleting a message that is gone


class PublishError(Exception):
    """JetStream refused a message of the batch, or did not ack it in time."""


class NoStream(LookupError):
    """No stream keeps the subject that was published to."""


class Stored(NamedTuple):
    stream: str
    seq: int
    duplicate: bool = False  # JetStream had its Nats-Msg-Id already and dropped this copy


def now() -> datetime:
    return datetime.now(UTC)


class NatsAdapter:
    """The broker's NATS connection, as the few operations boxops needs of it."""

    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None

    @property
    def client(self) -> Client:
        return self.broker.connection

    @property
    def jetstream(self) -> JetStreamContext:
        """The JetStream context of the broker's current connection (tests inspect with it)."""
        client = self.client
        if self._jetstream is None or self._client is not client:
            self._client, self._jetstream = client, client.jetstream()
        return self._jetstream

    @property
    def connected(self) -> bool:
        """Connected now (not reconnecting): a publish has a chance to be acked."""
        return bool(self.client.is_connected)

    @property
    def max_payload(self) -> int:
        return self.client.max_payload

    async def declare_stream(self, config: StreamConfig, *, dynamic: bool) -> None:
        """Create the stream, or bring it to `config`; a dynamic stream's subjects grew at
        run time and are kept as they are."""
        try:
            await self.jetstream.add_stream(config)
        except BadRequestError:
            if not dynamic:
                await self.jetstream.update_stream(config)

    async def stream_exists(self, name: str) -> bool:
        try:
            await self.jetstream.stream_info(name)
        except NotFoundError:
            return False
        return True

    async def unhandled(self, stream: str, durable: str) -> int:
        """Messages a durable consumer has not acked yet: waiting, or delivered and in hand."""
        info = await self.jetstream.consumer_info(stream, durable)
        return (info.num_pending or 0) + (info.num_ack_pending or 0)

    async def publish(self, subject: str, body: bytes, headers: dict[str, str]) -> Stored:
        """Publish to whichever stream keeps `subject`; where it was stored."""
        try:
            ack = await self.jetstream.publish(subject, body, headers=headers)
        except NoStreamResponseError:
            raise NoStream(subject) from None
        return Stored(ack.stream, ack.seq, bool(ack.duplicate))

    async def stored(self, stream: str, seq: int) -> RawStreamMsg | None:
        """The message `stream` keeps at `seq`, or None if it keeps none there."""
        try:
            return await self.jetstream.get_msg(stream, seq=seq)
        except NotFoundError:
            return None

    async def delete(self, stream: str, seq: int) -> bool:
        """Remove the message at `seq`; False if it was gone already."""
        try:
            return bool(await self.jetstream.delete_msg(stream, seq))
        except NotFoundError:
            return False
        except BadRequestError as err:
            if err.err_code == SEQUENCE_NOT_FOUND:  # deleted by someone else meanwhile
                return False
            raise

    async def bodies(self, stream: str, subject: str) -> list[bytes]:
        """Every stored body of `subject` in `stream`, oldest first."""
        found: list[bytes] = []
        seq = 1
        while True:
            try:
                message = await self.jetstream.get_msg(stream, seq=seq, next=True, subject=subject)
            except NotFoundError:
                return found
            found.append(message.data or b"")
            seq = (message.seq or seq) + 1

    async def replay(
        self,
        stream: str,
        subject: str,
        since: datetime,
        read: Callable[[Msg], T | None],
        limit: int,
    ) -> list[T]:
        """What `read` makes of the messages of `subject` stored since `since` (fetched 500
        at a time until `limit` are read or none are left); none if `stream` holds no
        such subject."""
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            filter_subject=subject,
            inactive_threshold=30,
        )
        try:
            subscription = await self.jetstream.pull_subscribe(
                subject, stream=stream, config=config
            )
        except (BadRequestError, NotFoundError):
            return []
        found: list[T] = []
        while len(found) < limit:
            try:
                messages = await subscription.fetch(500, timeout=0.3)
            except TimeoutError:
                break
            found.extend(item for item in map(read, messages) if item is not None)
        await subscription.unsubscribe()
        return found

    async def tail(
        self,
        stream: str,
        subject: str | tuple[str, ...] | None,
        *,
        after: int | None,
        idle_s: float,
    ) -> AsyncIterator[list[Msg]]:
        """Batches of the messages of `subject` (several: of any of them; None: all) in
        `stream` stored after sequence `after` (None: from now on), as they come; an empty
        batch after `idle_s` without any, and one at once when subscribed. Ends when the
        caller stops iterating; the server drops the consumer soon after."""
        start = (
            {"deliver_policy": DeliverPolicy.NEW}
            if after is None
            else {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": after + 1}
        )
        subjects = list(subject) if isinstance(subject, tuple) else [subject] if subject else []
        config = ConsumerConfig(
            **start,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=30,
        )
        subscription = await self.jetstream.pull_subscribe(
            subjects[0] if subjects else ">", stream=stream, config=config
        )
        try:
            yield []  # subscribed: whatever is published from now on comes
            while True:
                try:
                    yield await subscription.fetch(500, timeout=idle_s)
                except (TimeoutError, NatsTimeoutError):
                    yield []
        finally:
            with contextlib.suppress(ConnectionClosedError):
                await subscription.unsubscribe()

    async def publish_pipelined(self, messages: Sequence[Message]) -> None:
        """Publish to JetStream, every message sent before any ack is awaited; returns once
        every one is stored. Ids are the caller's: a batch sent again is dropped as
        duplicates. An error ack, or an ack missing after ACK_TIMEOUT_S, raises."""
        for start in range(0, len(messages), BATCH):
            await self._batch(messages[start : start + BATCH])

    async def _batch(self, messages: Sequence[Message]) -> None:
        # One `await js.publish(…)` per message waits a round trip each, and nats-py's
        # `publish_async` makes a task per message (~11k/s): so plain publishes whose
        # acks all come to one inbox, counted (and each checked) as they arrive.
        client = self.client
        inbox = client.new_inbox()
        waiting = len(messages)
        done = asyncio.get_running_loop().create_future()
        errors: list[str] = []

        async def on_ack(msg: Msg) -> None:
            nonlocal waiting
            if b'"error"' in msg.data:
                errors.append(json.loads(msg.data)["error"].get("description", "error"))
            waiting -= 1
            if waiting == 0 and not done.done():
                done.set_result(None)

        subscription = await client.subscribe(f"{inbox}.*", cb=on_ack)
        try:
            for number, (subject, body, headers) in enumerate(messages):
                if len(body) > client.max_payload:
                    raise PublishError(f"a message of {len(body)} bytes exceeds the server's limit")
                command = hpub_cmd(subject, f"{inbox}.{number}", _encoded(headers), body)
                await client._send_command(command)  # the fast path (module docstring)
            await client.flush()
            await asyncio.wait_for(done, ACK_TIMEOUT_S)
        except TimeoutError:
            raise PublishError(f"{waiting} of {len(messages)} messages not acked in time") from None
        finally:
            await subscription.unsubscribe()
        if errors:
            raise PublishError(f"{len(errors)} messages refused: {errors[0]}")


def _encoded(headers: dict[str, str]) -> bytes:
    # Our header values are ids, URIs and timestamps made here: no newlines to escape.
    block = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"NATS/1.0\r\n{block}\r\n".encode()


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

    async def declare(self, nats: NatsAdapter) -> None:
        """Create or update the durable consumer (one made by an older version takes
        today's subjects): it keeps what is stored from then on until it is read."""
        await nats.jetstream.add_consumer(self.stream, self.config)

    async def start(self, nats: NatsAdapter) -> None:
        js = nats.jetstream
        await self.declare(nats)
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
