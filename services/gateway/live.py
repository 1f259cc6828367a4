"""Server-sent events telling a page that what it shows changed: a run's metrics, a
monitor's points, crossings and runs. Metric points on the bus only mark the view stale;
what is sent is read from the services that store it (the one that stores a point may lag
the bus, so the page would re-read too early), again at most each THROTTLE_S until it
settles, and each QUIET_S anyway (a monitor crosses by its clock too; a run ends)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.gateway.ask import ask
from services.gateway.json_bodies import JsonRoute
from services.gateway.names import checked
from services.gateway.scopes import Scope, needs
from services.gateway.streams import KnownRun
from shared.bus import TELEMETRY, Bus
from shared.events import MetricLogged, MetricsLogged
from shared.queries import (
    MONITORS_POINTS,
    RUNS_GET,
    RUNS_LIST,
    TRIGGERS_GET,
    TRIGGERS_HISTORY,
    Named,
    RunGet,
    RunList,
)
from shared.runs import TERMINAL

router = APIRouter(route_class=JsonRoute, tags=["streams"])
POINTS = (MetricLogged.subject, MetricsLogged.subject)
THROTTLE_S = 1.0
QUIET_S = 5.0
RUNS = 20  # a monitor's newest runs whose states are watched


async def _monitor(name: Annotated[str, Depends(checked("monitor"))], request: Request) -> Any:
    """The monitor's spec, or its 404 before the stream starts."""
    return (await ask(request, TRIGGERS_GET, Named(name=name, kind="monitor")))["spec"]


@router.get("/runs/{run_id}/metrics/live", response_class=EventSourceResponse)
@needs(Scope.READ, own_run=True)
async def run_metrics_live(
    run_id: str, request: Request, _run: KnownRun
) -> AsyncIterator[ServerSentEvent]:
    """`ready` once subscribed; `changed` with the run's state and metric summaries
    (`{state, metrics: {name: {last, min, max, count, last_step}}}`) as they change, at
    most each second; `end` once the run ended and its metrics settled. 404 for no run."""

    async def read() -> dict[str, Any]:
        run = await ask(request, RUNS_GET, RunGet(run_id=run_id))
        return {"state": run["state"], "metrics": run.get("metrics") or {}}

    needle = run_id.encode()
    async for event in _changes(
        request, lambda data: needle in data, read, ended=lambda seen: seen["state"] in TERMINAL
    ):
        yield event


@router.get("/monitors/{name}/live", response_class=EventSourceResponse)
@needs(Scope.READ)
async def monitor_live(
    name: str, request: Request, spec: Annotated[Any, Depends(_monitor)]
) -> AsyncIterator[ServerSentEvent]:
    """`ready` once subscribed; `changed` with the monitor's newest point and crossing and
    its newest runs' states (`{point, crossing, runs}`) as they change, at most each
    second. 404 for no monitor."""
    newest = Named(name=name, kind="monitor", limit=1)

    async def read() -> dict[str, Any]:
        point, crossing, runs = await asyncio.gather(
            ask(request, MONITORS_POINTS, newest),
            ask(request, TRIGGERS_HISTORY, newest),
            ask(request, RUNS_LIST, RunList(monitor=name, limit=RUNS)),
        )
        return {"point": point, "crossing": crossing, "runs": [[r["id"], r["state"]] for r in runs]}

    needle = json.dumps(spec["metric"]).encode()  # the metric's name, as JSON spells it
    async for event in _changes(request, lambda data: needle in data, read):
        yield event


async def _changes(
    request: Request,
    stale: Callable[[bytes], bool],
    read: Callable[[], Awaitable[Any]],
    *,
    ended: Callable[[Any], bool] = lambda _: False,
) -> AsyncIterator[ServerSentEvent]:
    """`ready`, then `changed` each time `read()` gives something new: read at once (what
    changed before the subscription was never sent), then within THROTTLE_S of a point
    `stale` says is of it and again until it reads the same, and each QUIET_S anyway;
    `end` once `ended` says so of what it settled on."""
    deadline = time.monotonic() + request.app.state.settings.stream_max_s
    bus: Bus = request.app.state.service.bus
    shown: Any = None
    dirty, read_at = True, -QUIET_S
    async for batch in bus.nats.tail(TELEMETRY.name, POINTS, after=None, idle_s=THROTTLE_S):
        if shown is None:
            yield ServerSentEvent(event="ready", data={})
        dirty = dirty or any(stale(message.data or b"") for message in batch)
        now = time.monotonic()
        if now - read_at >= (THROTTLE_S if dirty else QUIET_S):
            seen, read_at = await read(), now
            if seen == shown:
                dirty = False  # settled
            else:
                shown = seen
                yield ServerSentEvent(event="changed", data=seen)
            if not dirty and ended(seen):
                yield ServerSentEvent(event="end", data={})
                return
        if now > deadline:
            return
