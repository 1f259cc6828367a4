"""/v1/dlq: the messages consumers could not take, listed, shown and replayed."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from services.gateway import dead_letters
from services.gateway.dead_letters import DeadLetter, NotReplayable, Replayed, Unknown
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared.bus import Bus, now
from shared.nats_adapter import NatsAdapter, NoStream

router = APIRouter(route_class=JsonRoute, tags=["dead letters"])
MOST = 10_000
# Where the dead letter is stored: a JetStream sequence, from 1 to a uint64's largest.
LetterId = Annotated[int, Path(ge=1, le=2**64 - 1, description="The dead letter's id.")]
# Tokens without blanks, `*` for one token and a last `>` for the rest, as NATS takes them.
FILTER = r"^(([^\s.*>]+|\*)(\.([^\s.*>]+|\*))*(\.>)?|>)$"


def _nats(request: Request) -> NatsAdapter:
    bus: Bus = request.app.state.service.bus
    return bus.nats


@router.get("/dlq")
@needs(Scope.READ)
async def listing(
    request: Request,
    subject: Annotated[
        str | None, Query(pattern=FILTER, description="Original subject; * and > match.")
    ] = None,
    since: Annotated[str | None, Query(description="ISO time, or a period: 24h.")] = None,
    limit: Annotated[int, Query(ge=1, le=MOST)] = 100,
) -> list[DeadLetter]:
    """Dead letters, oldest first: subject, reason, consumer, when, headers and data."""
    try:
        start = dead_letters.since_of(since, now())
    except ValueError as err:
        raise HTTPException(422, f"since: {err}") from None
    return await dead_letters.listing(_nats(request), subject=subject, since=start, limit=limit)


@router.get("/dlq/{id}")
@needs(Scope.READ)
async def show(id: LetterId, request: Request) -> DeadLetter:
    try:
        return await dead_letters.show(_nats(request), id)
    except Unknown as err:
        raise HTTPException(404, str(err)) from None


@router.post("/dlq/replay")
@needs(Scope.ADMIN)
async def replay_subject(
    request: Request,
    subject: Annotated[str, Query(pattern=FILTER, description="Original subject; * and > match.")],
) -> list[Replayed]:
    """Publish every dead letter of a subject again on its subject (after a fix)."""
    try:
        return await dead_letters.replay_subject(_nats(request), subject, limit=MOST)
    except NotReplayable as err:
        raise HTTPException(403, str(err)) from None
    except NoStream as err:
        raise HTTPException(409, f"no stream keeps {err} any more: nothing replayed") from None


@router.post("/dlq/{id}/replay")
@needs(Scope.ADMIN)
async def replay(id: LetterId, request: Request) -> Replayed:
    """Publish a dead letter again on its subject (after a fix); it leaves the DLQ."""
    try:
        return await dead_letters.replay(_nats(request), id)
    except Unknown as err:
        raise HTTPException(404, str(err)) from None
    except NotReplayable as err:
        raise HTTPException(403, str(err)) from None
    except NoStream as err:
        raise HTTPException(409, f"no stream keeps {err} any more: not replayed") from None
