"""POST /v1/hooks/{name}: another system's webhook (a Git push, a warehouse job done) in
as an event on the hook's subject.

No token: the sender proves itself by signing, GitHub-style, each raw body with the hook's
secret (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`), and says when it sent it
(`X-Hook-Timestamp`, Unix seconds) and which delivery it is (`X-Hook-Delivery`, or GitHub's
`X-GitHub-Delivery`). A delivery is refused (401) unsigned, badly signed, or sent further
than the replay window from now; and (409) when its id, or the same signed body, came in
the window already. The signature does not cover the timestamp (GitHub's does not), so the
window is what bounds a replayed body: within it, its signature is remembered.
"""

import json
import time
import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError

from services.gateway import hook_store
from services.gateway.alert_hooks import Delivered
from services.gateway.alerts import Outgoing
from services.gateway.hook_intake import check_rate, publish, refuse
from services.gateway.hook_mapping import Unmappable, mapped
from services.gateway.hook_store import Hook
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from services.gateway.signatures import signed, staleness
from shared.bus import now
from shared.envelope import describe
from shared.events import Event, model_for

router = APIRouter(route_class=JsonRoute, prefix="/hooks", tags=["hooks"])
SIGNATURE = "X-Hub-Signature-256"
DELIVERY = ("X-Hook-Delivery", "X-GitHub-Delivery")
MAX_BODY = 1024 * 1024  # a NATS message's default limit: a bigger body could not be published
IDS = uuid.UUID("0b9d2c4e-51f4-4c3a-8c1e-7d2f7b6a9e31")  # namespace of hook event ids


class HookEvent(Event):
    """A generic hook's event: the body (or its mapping) as it came."""

    model_config = Event.model_config | {"extra": "allow"}
    subject = "external"


@router.post("/{name}", status_code=202)
@needs(Scope.HOOK, signed=True)
async def receive(name: str, request: Request) -> Delivered:
    """A signed delivery of a generic hook, published on the hook's subject."""
    async with request.app.state.tokens() as session:
        hook = await hook_store.get(session, name)
    if hook is None:
        raise HTTPException(404, f"no hook named {name!r}")
    body = await _body(request)
    delivery = _authentic(request, hook, body)
    # Counted once the sender proved itself: junk sent to a hook's URL does not use up its
    # sender's rate.
    check_rate(request, name)
    event = await _event(request, hook, body)
    keys = [f"delivery:{delivery}", f"signature:{request.headers[SIGNATURE].strip()}"]
    await _first_time(request, hook, keys, delivery)
    outgoing = Outgoing(uuid.uuid5(IDS, f"{name}\0{delivery}").hex, event, hook.subject)
    try:
        return Delivered(published=await publish(request, [outgoing]))
    except Exception:
        async with request.app.state.tokens() as session:  # its sender may try it again
            await hook_store.forget(session, name, keys)
        raise


async def _body(request: Request) -> bytes:
    """The raw body, read only up to MAX_BODY: no token guards this route."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        raise HTTPException(413, f"a hook's body is at most {MAX_BODY:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HTTPException(413, f"a hook's body is at most {MAX_BODY:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _authentic(request: Request, hook: Hook, body: bytes) -> str:
    """The delivery's id, once it is signed with the hook's secret and fresh; else 401."""
    if not signed(hook.secret, body, request.headers.get(SIGNATURE)):
        raise HTTPException(401, f"missing or wrong {SIGNATURE}: sign the raw body (sha256=…)")
    window = request.app.state.settings.hook_replay_window_s
    if problem := staleness(request.headers.get("X-Hook-Timestamp"), time.time(), window):
        raise HTTPException(401, problem)
    delivery = next((request.headers[h] for h in DELIVERY if request.headers.get(h)), None)
    if not delivery or len(delivery) > 200:
        raise HTTPException(401, f"missing header {DELIVERY[0]}: the delivery's unique id")
    return delivery


async def _event(request: Request, hook: Hook, body: bytes) -> Event:
    """The event the body makes; a body that makes none is refused and dead-lettered."""
    try:
        data: Any = json.loads(body)
        fields = mapped(data, hook.mapping)
        model = model_for(hook.subject)
        return model.model_validate(fields) if model else HookEvent.model_validate(fields)
    except (ValueError, UnicodeDecodeError) as err:  # JSON's and the mapping's errors
        if isinstance(err, ValidationError):
            reason = describe(err, hook.subject)
        elif isinstance(err, Unmappable):
            reason = f"hook {hook.name!r}: {err}"
        else:
            reason = f"hook {hook.name!r}: the body is no JSON ({err})"
        await refuse(request, hook.name, body, reason)


async def _first_time(request: Request, hook: Hook, keys: list[str], delivery: str) -> None:
    at = now()
    window = timedelta(seconds=request.app.state.settings.hook_replay_window_s)
    async with request.app.state.tokens() as session:
        if not await hook_store.remember(session, hook.name, keys, at, at - window):
            raise HTTPException(409, f"delivery {delivery!r} was received already: a replay")
