"""Publishing many events to JetStream at once: every message sent, then the acks counted.

One `await js.publish(…)` per event waits a round trip each. nats-py's `publish_async`
avoids that but wraps every publish in `asyncio.wait_for` (a task per message), which
holds it near 11k/s here. So a batch is sent as plain publishes whose replies go to one
inbox subscription, and the batch is done when every ack has arrived (each checked: an
error ack fails the batch). Ids are chosen by the caller: a batch sent again is dropped
by JetStream as duplicates.
"""

import asyncio
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from nats.protocol.command import hpub_cmd
from opentelemetry import propagate

from shared.bus import Bus, stream_of
from shared.envelope import Envelope, body_for, headers_for
from shared.events import Event

BATCH = 5000
ACK_TIMEOUT_S = 10.0
Message = tuple[str, bytes, bytes]  # subject, body, encoded headers


class PublishError(Exception):
    """JetStream refused a message of the batch, or did not ack it in time."""


@lru_cache(maxsize=4096)
def _stream(subject: str) -> str:
    return stream_of(subject).name


def _headers(headers: dict[str, str]) -> bytes:
    # Our header values are ids, URIs and timestamps made here: no newlines to escape.
    block = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"NATS/1.0\r\n{block}\r\n".encode()


async def publish_many(bus: Bus, envelopes: Sequence[Envelope[Event]]) -> None:
    """Publish envelopes in batches; returns once JetStream has stored every one."""
    messages = []
    for envelope in envelopes:
        subject = envelope.data.nats_subject()
        headers = headers_for(envelope) | {"Nats-Expected-Stream": _stream(subject)}
        messages.append((subject, body_for(envelope), _headers(headers)))
    await publish_messages(bus, messages)


async def publish_messages(bus: Bus, messages: Sequence[Message]) -> None:
    client: Any = bus.broker.config.connection_state.connection  # type: ignore[attr-defined]
    for start in range(0, len(messages), BATCH):
        await _batch(client, messages[start : start + BATCH])


async def _batch(client: Any, messages: Sequence[Message]) -> None:
    inbox = client.new_inbox()
    waiting = len(messages)
    done = asyncio.get_running_loop().create_future()
    errors: list[str] = []

    async def on_ack(msg: Any) -> None:
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
            # nats-py's publish re-checks and re-encodes every header of every message;
            # ours are encoded once above, so the command goes to its buffer directly.
            await client._send_command(hpub_cmd(subject, f"{inbox}.{number}", headers, body))
        await client.flush()
        await asyncio.wait_for(done, ACK_TIMEOUT_S)
    except TimeoutError:
        raise PublishError(f"{waiting} of {len(messages)} messages not acked in time") from None
    finally:
        await subscription.unsubscribe()
    if errors:
        raise PublishError(f"{len(errors)} messages refused: {errors[0]}")


async def publish_rows(bus: Bus, rows: Sequence[Any]) -> None:
    """Publish outbox rows as one batch, carrying the current trace context in each."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    messages = [
        (
            row.subject,
            row.body,
            _headers(
                json.loads(row.headers) | carrier | {"Nats-Expected-Stream": _stream(row.subject)}
            ),
        )
        for row in rows
    ]
    await publish_messages(bus, messages)
