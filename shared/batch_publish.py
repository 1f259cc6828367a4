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

from shared.bus import Bus, stream_of
from shared.envelope import Envelope, body_for, headers_for
from shared.events import Event

BATCH = 5000
ACK_TIMEOUT_S = 10.0


class PublishError(Exception):
    """JetStream refused a message of the batch, or did not ack it in time."""


@lru_cache(maxsize=4096)
def _stream(subject: str) -> str:
    return stream_of(subject).name


def _sender(client: Any) -> Any:
    """nats-py's publish checks and re-encodes every header of every message; ours are
    made here from known-good values, so they are encoded once, as one block."""
    if not hasattr(client, "_send_command") or client.is_closed or not client.is_connected:
        return lambda subject, body, reply, headers: client.publish(
            subject, body, reply=reply, headers=headers
        )

    async def send(subject: str, body: bytes, reply: str, headers: dict[str, str]) -> None:
        if len(body) > client.max_payload:
            raise PublishError(f"a message of {len(body)} bytes exceeds the server's limit")
        block = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        header = f"NATS/1.0\r\n{block}\r\n".encode()
        await client._send_command(hpub_cmd(subject, reply, header, body))

    return send


async def publish_many(bus: Bus, envelopes: Sequence[Envelope[Event]]) -> None:
    client: Any = bus.broker.config.connection_state.connection  # type: ignore[attr-defined]
    for start in range(0, len(envelopes), BATCH):
        await _batch(client, envelopes[start : start + BATCH])


async def _batch(client: Any, envelopes: Sequence[Envelope[Event]]) -> None:
    inbox = client.new_inbox()
    waiting = len(envelopes)
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
        send = _sender(client)
        for number, envelope in enumerate(envelopes):
            subject = envelope.data.nats_subject()
            headers = headers_for(envelope)
            headers["Nats-Expected-Stream"] = _stream(subject)
            await send(subject, body_for(envelope), f"{inbox}.{number}", headers)
        await client.flush()
        await asyncio.wait_for(done, ACK_TIMEOUT_S)
    except TimeoutError:
        raise PublishError(f"{waiting} of {len(envelopes)} messages not acked in time") from None
    finally:
        await subscription.unsubscribe()
    if errors:
        raise PublishError(f"{len(errors)} messages refused: {errors[0]}")
