"""Server-sent events: a run's log lines as they are printed, and a live tail of the bus.

Each stream lives at most `stream_max_s` (a client reconnects with `Last-Event-ID`, as
browsers' EventSource do, and goes on where it was), and ends when its client goes away,
so no stream outlives its reader.
"""

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.gateway.ask import ask
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared.bus import CUSTOM, EVENTS, TELEMETRY, Bus, Stream, stream_of
from shared.events import LogChunk
from shared.queries import RUNS_GET, RunEnded, RunGet
from shared.runs import TERMINAL

router = APIRouter(route_class=JsonRoute, tags=["streams"])
IDLE_S = 0.2  # how often a quiet log stream asks whether its run ended
TAILED = (EVENTS, CUSTOM)  # the bus a reader may tail: domain events and other systems'
SUBJECT_HELP = "Only these subjects (NATS wildcards: `run.*`, `ext.>`); none: every platform event."


# What a stream checks is a dependency: it runs before the response starts, so a bad
# request is its 4xx, not a 200 whose stream breaks.
async def _known_run(run_id: str, request: Request) -> dict[str, Any]:
    return await ask(request, RUNS_GET, RunGet(run_id=run_id))


def _resumed_after(
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> int | None:
    """The stream sequence a reconnecting client saw last (`123` or `STREAM:123`)."""
    if not last_event_id:
        return None
    number = last_event_id.rpartition(":")[2]
    if not number.isdigit():
        raise HTTPException(422, f"Last-Event-ID {last_event_id!r} is not an id this stream sent")
    return int(number)


class Tail(NamedTuple):
    stream: Stream
    subject: str | None


def tail_of(subject: Annotated[str | None, Query(description=SUBJECT_HELP)] = None) -> Tail:
    if subject is None:
        return Tail(EVENTS, None)
    tokens = subject.split(".")
    if any(t == "" or t.strip() != t for t in tokens) or ">" in tokens[:-1]:
        raise HTTPException(422, f"subject {subject!r} is not a subject or wildcard of one")
    try:
        stream = stream_of(subject)
    except LookupError:
        stream = None
    if stream not in TAILED or tokens[0] in ("*", ">"):
        raise HTTPException(
            422, f"subject {subject!r} is not an event subject: name one of {_kinds()}"
        )
    return Tail(stream, subject)


def _kinds() -> str:
    return ", ".join(pattern for stream in TAILED for pattern in stream.subjects)


KnownRun = Annotated[dict[str, Any], Depends(_known_run)]
ResumedAfter = Annotated[int | None, Depends(_resumed_after)]
Tailed = Annotated[Tail, Depends(tail_of)]


@router.get("/runs/{run_id}/logs/stream", response_class=EventSourceResponse)
@needs(Scope.READ, own_run=True)
async def stream_logs(
    run_id: str, request: Request, _run: KnownRun, resumed_after: ResumedAfter
) -> AsyncIterator[ServerSentEvent]:
    """The run's log lines from its start as `line` events (`{t, stream, line}`), live while
    it runs, then one `end` event with its final state and reason; 404 for no run."""
    after = resumed_after or 0
    deadline = time.monotonic() + request.app.state.settings.stream_max_s
    bus: Bus = request.app.state.service.bus
    ended: RunEnded | None = None
    async for batch in bus.nats.tail(TELEMETRY.name, f"log.{run_id}", after=after, idle_s=IDLE_S):
        for message in batch:
            chunk = LogChunk.model_validate_json(message.data or b"{}")
            for number, line in enumerate(chunk.lines, 1):
                last = number == len(chunk.lines)
                seq = str(message.metadata.sequence.stream) if last else None
                yield ServerSentEvent(event="line", data=line, id=seq)
        if batch:
            continue
        if ended is not None:  # quiet since the run was seen ended: every line was sent
            yield ServerSentEvent(event="end", data=ended)
            return
        if time.monotonic() > deadline:
            return
        # Asked after a quiet spell, and the stream read once more: lines come before the end.
        run = await ask(request, RUNS_GET, RunGet(run_id=run_id))
        if run["state"] in TERMINAL:
            ended = RunEnded(id=run_id, state=run["state"], reason=run.get("reason", ""))


@router.get("/events/stream", response_class=EventSourceResponse)
@needs(Scope.READ)
async def stream_events(
    request: Request, tail: Tailed, after: ResumedAfter
) -> AsyncIterator[ServerSentEvent]:
    """Events as they are published (after `Last-Event-ID`, if given): first a `ready`
    event once subscribed (what is published from then on comes: a page refreshes then),
    then each an event named for its subject, `{subject, id, time, data}` (the event's own
    id and time)."""
    deadline = time.monotonic() + request.app.state.settings.stream_max_s
    bus: Bus = request.app.state.service.bus
    stream = tail.stream
    ready = False
    async for batch in bus.nats.tail(stream.name, tail.subject, after=after, idle_s=1.0):
        if not ready:
            ready = True
            yield ServerSentEvent(event="ready", data={})
        for message in batch:
            seq = str(message.metadata.sequence.stream)
            headers = message.headers or {}
            body = {
                "subject": message.subject,
                "id": headers.get("ce-id"),
                "time": headers.get("ce-time"),
                "data": _json(message.data),
            }
            yield ServerSentEvent(event=message.subject, data=body, id=f"{stream.name}:{seq}")
        if time.monotonic() > deadline:
            return


def _json(data: bytes | None) -> Any:
    try:
        return json.loads(data or b"null")
    except ValueError:
        return (data or b"").decode(errors="replace")
