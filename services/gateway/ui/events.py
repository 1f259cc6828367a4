"""The events pages: a live tail of the bus (the page reads `/v1/events/stream`), and the
dead letters with their reasons and a Replay button for a token allowed to replay."""

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway import dead_letters, dlq, streams
from services.gateway.dead_letters import EPOCH, NotReplayable, Replayed, Unknown
from services.gateway.scopes import Principal, Scope, needs, requirement_of
from services.gateway.ui import flash, session
from services.gateway.ui.render import forbidden, not_found, render
from shared.nats_adapter import NoStream

router = APIRouter(include_in_schema=False)
SHOWN = 500  # dead letters on a page, oldest first
PAGE = "/events/dead-letters"


@router.get("/events", response_class=HTMLResponse)
@needs(Scope.READ)
async def events_page(request: Request, subject: str = "") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    problem = None
    if subject:
        try:
            streams.tail_of(subject)  # as the stream will check it: a message, not a 422
        except HTTPException as err:
            problem = str(err.detail)
    return render(request, "events/tail.html", subject=subject, problem=problem)


@router.get("/events/dead-letters", response_class=HTMLResponse)
@needs(Scope.READ)
async def dead_letters_page(request: Request, subject: str = "") -> Response:
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    replayed = flash.read(request, Replayed)
    page = await _dead_letters(request, viewer, subject, replayed=replayed)
    if replayed is not None:
        flash.forget(page, PAGE)
    return page


@router.post("/events/dead-letters/{letter_id}/replay", response_class=HTMLResponse)
@needs(Scope.ADMIN)
async def replay(request: Request, letter_id: int, csrf: Annotated[str, Form()] = "") -> Response:
    """Replay one dead letter, if the signed-in token may; then the list says what happened
    (a replay refused shows the list with why, at the refusal's status)."""
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    session.check_csrf(request, csrf)
    if not 1 <= letter_id < 2**64:
        return not_found(request, f"no dead letter {letter_id}")
    if not _may_replay(viewer):
        return forbidden(request, "replaying a dead letter needs scope admin")
    try:
        done = await dead_letters.replay(request.app.state.service.bus.nats, letter_id)
    except Unknown as err:
        return not_found(request, str(err))
    except NotReplayable as err:
        return await _dead_letters(request, viewer, "", problem=str(err), status=403)
    except NoStream as err:
        why = f"no stream keeps {err} any more: not replayed"
        return await _dead_letters(request, viewer, "", problem=why, status=409)
    answer = RedirectResponse(PAGE, status_code=303)
    flash.keep(request, answer, PAGE, done)
    return answer


async def _dead_letters(
    request: Request,
    viewer: Principal,
    subject: str,
    *,
    problem: str | None = None,
    replayed: Replayed | None = None,
    status: int = 200,
) -> Response:
    letters = []
    if subject and not re.fullmatch(dlq.FILTER, subject):
        problem = f"subject {subject!r} is not a subject or a wildcard of one (`run.*`, `ext.>`)"
    else:
        nats = request.app.state.service.bus.nats
        letters = await dead_letters.listing(
            nats, subject=subject or None, since=EPOCH, limit=SHOWN
        )
    return render(
        request,
        "events/dead_letters.html",
        status=status,
        letters=letters,
        subject=subject,
        problem=problem,
        replayed=replayed,
        can_replay=_may_replay(viewer),
        replayable=dead_letters.replayable,
    )


def _may_replay(viewer: Principal) -> bool:
    return session.allowed(viewer, requirement_of(dlq.replay))
