"""/v1/events/{subject}: other systems publish events over HTTP."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared.bus import Bus, new_id, now
from shared.envelope import Envelope, EnvelopeError, body_for, headers_for, parse
from shared.events import CUSTOM_PREFIX, PUBLIC, Event, is_public, model_for
from shared.nats_adapter import NoStream
from shared.specs import SUBJECT_TOKEN

router = APIRouter(route_class=JsonRoute, tags=["events"])
NOT_PUBLIC = (
    "{subject!r} is not a public subject: other systems may publish "
    + ", ".join(m.subject for m in PUBLIC)
    + f" and custom subjects under {CUSTOM_PREFIX}… (e.g. {CUSTOM_PREFIX}sales.updated)"
)


class AnyEvent(Event):
    """An event of a subject outside the catalog: kept as it came."""

    model_config = Event.model_config | {"extra": "allow"}
    subject = "external"


@router.post("/events/{subject}", status_code=202)
@needs(Scope.WRITE)
async def publish(subject: str, request: Request) -> dict[str, Any]:
    """Accepts a bare JSON body, a structured CloudEvent, or binary ce-* headers, on a
    public subject only; a catalog subject's data is validated as its consumers will."""
    if not all(SUBJECT_TOKEN.fullmatch(t) for t in subject.split(".")):
        raise HTTPException(422, f"{subject!r} is not a subject: tokens of letters, digits, _ -")
    if not is_public(subject):
        raise HTTPException(403, NOT_PUBLIC.format(subject=subject))
    model = model_for(subject) or AnyEvent
    headers = {k: v for k, v in request.headers.items() if k.lower().startswith("ce-")}
    headers["content-type"] = request.headers.get("content-type", "application/json")
    try:
        envelope: Envelope[Any] = parse(
            model, headers, await request.body(), new_id=new_id(), now=now(), subject=subject
        )
    except EnvelopeError as err:
        raise HTTPException(422, str(err)) from None
    bus: Bus = request.app.state.service.bus
    outgoing = Envelope(
        id=envelope.id,
        source=envelope.source,
        time=envelope.time,
        data=envelope.data,
        causation_depth=envelope.causation_depth,
        subject=subject,
    )
    body = body_for(outgoing)
    try:
        stored = await bus.nats.publish(subject, body, headers_for(outgoing))
    except NoStream:
        raise HTTPException(
            404, f"no stream keeps {subject!r}: apply a trigger that listens on it first"
        ) from None
    return {"id": envelope.id, "subject": subject, "stream": stored.stream, "seq": stored.seq}
