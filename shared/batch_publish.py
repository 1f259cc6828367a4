"""Publishing many events to JetStream at once (the adapter's pipelined publish): each
message says which stream must store it, so a subject in the wrong stream is refused
(`PublishError`)."""

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from opentelemetry import propagate

from shared.bus import Bus, stream_of
from shared.envelope import Envelope, body_for, headers_for
from shared.events import Event


@lru_cache(maxsize=4096)
def _stream(subject: str) -> str:
    return stream_of(subject).name


async def publish_many(bus: Bus, envelopes: Sequence[Envelope[Event]]) -> None:
    """Publish envelopes in batches; returns once JetStream has stored every one."""
    messages = []
    for envelope in envelopes:
        subject = envelope.data.nats_subject()
        headers = headers_for(envelope) | {"Nats-Expected-Stream": _stream(subject)}
        messages.append((subject, body_for(envelope), headers))
    await bus.nats.publish_pipelined(messages)


async def publish_rows(bus: Bus, rows: Sequence[Any]) -> None:
    """Publish outbox rows as one batch, carrying the current trace context in each."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    messages = [
        (
            row.subject,
            row.body,
            json.loads(row.headers) | carrier | {"Nats-Expected-Stream": _stream(row.subject)},
        )
        for row in rows
    ]
    await bus.nats.publish_pipelined(messages)
