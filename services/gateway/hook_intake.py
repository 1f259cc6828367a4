"""What every hook does with what it receives: refuses it past the hook's rate, keeps a
bad body in the DLQ with the reason it was refused, publishes the events it makes.

A hook's bad bodies are dead-lettered under `dlq.hooks.<hook>` (`boxops dlq list --subject
'hooks.>'`), as received: what to fix is the sender, so they are not replayed.
"""

import math
import time
from typing import NoReturn

from fastapi import HTTPException, Request

from services.gateway.alerts import Outgoing
from services.gateway.dead_letters import HOOKS
from services.gateway.rate_limits import RateLimits
from shared.bus import Bus, now
from shared.envelope import Envelope, body_for, headers_for
from shared.nats_adapter import NoStream

DLQ_SUBJECT = HOOKS + "{hook}"


def limits(request: Request) -> RateLimits:
    return request.app.state.hook_limits


def check_rate(request: Request, hook: str) -> None:
    """429, with the seconds to wait, if `hook` was called more often than its rate."""
    wait = limits(request).wait(hook, time.monotonic())
    if wait > 0:
        seconds = str(math.ceil(wait))
        rate = limits(request).per_minute
        raise HTTPException(
            429,
            f"hook {hook!r} takes {rate:g} calls a minute: try again in {seconds} s",
            {"Retry-After": seconds},
        )


async def refuse(request: Request, hook: str, body: bytes, reason: str) -> NoReturn:
    """Keep the body in the DLQ with the reason, and answer 422 with it."""
    headers = {"content-type": request.headers.get("content-type", "application/json")}
    await _bus(request).dead_letter(DLQ_SUBJECT.format(hook=hook), body, headers, reason)
    raise HTTPException(422, reason)


async def publish(request: Request, outgoing: list[Outgoing]) -> list[str]:
    """Publish each event under its own id (JetStream drops one it has already); the ids."""
    bus = _bus(request)
    for item in outgoing:
        subject = item.to
        envelope = Envelope(
            id=item.id, source=bus.source, time=now(), data=item.event, subject=subject
        )
        try:
            await bus.nats.publish(subject, body_for(envelope), headers_for(envelope))
        except NoStream:
            raise HTTPException(
                404, f"no stream keeps {subject!r}: apply a trigger that listens on it first"
            ) from None
    return [item.id for item in outgoing]


def _bus(request: Request) -> Bus:
    return request.app.state.service.bus
