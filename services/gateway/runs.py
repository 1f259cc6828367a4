"""/v1/runs: submit, abort and retry runs; read their state, history, logs and metrics."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ConfigDict

from services.gateway.ask import ask
from services.gateway.decisions import Decisions
from services.gateway.json_bodies import JsonRoute
from services.gateway.problems import Problem
from services.gateway.run_logs import read_logs
from services.gateway.scopes import Scope, needs
from shared.bus import Bus, new_id
from shared.events import (
    Cause,
    RunAbortRequested,
    RunRequest,
    RunRequested,
)
from shared.queries import (
    RUNS_GET,
    RUNS_LIST,
    RUNS_METRIC_SERIES,
    RUNS_METRICS,
    MetricSeries,
    MetricSeriesGet,
    RunAccepted,
    RunGet,
    RunList,
    RunLogs,
    RunMetrics,
    RunMetricsGet,
    RunView,
)
from shared.runs import TERMINAL, RunState, RunSubstate
from shared.storable import Instant, Text

router = APIRouter(route_class=JsonRoute, tags=["runs"])


class RunCreate(RunRequest):
    """A run of an inline command, a registered component, or a registered pipeline: the
    fields of `run.requested` but who asks and why, which the gateway sets."""

    model_config = ConfigDict(extra="forbid")


class RunRefused(RunAccepted):
    detail: str
    reason: str


REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        "model": RunRefused | Problem,
        "description": "The scheduler refused it (recorded), or the request is malformed.",
    }
}


@router.post("/runs", status_code=202, response_model=RunAccepted, responses=REFUSED)
@needs(Scope.RUN)
async def submit_run(body: RunCreate, request: Request) -> Any:
    """Accept a run (202, with the state the scheduler recorded), or refuse it (422, with the
    reason; the refused run is recorded under its id)."""
    fields = body.model_dump(exclude_none=True)
    return await _submit(request, RunRequested(**fields, cause=Cause(kind="manual")))


async def _submit(request: Request, run: RunRequested) -> Any:
    bus: Bus = request.app.state.service.bus
    decisions: Decisions = request.app.state.decisions
    run_id = new_id()
    url = f"/v1/runs/{run_id}"

    async def publish() -> None:
        await bus.publish(run.model_copy(update={"run_id": run_id}), id=run_id)

    decided = await decisions.first(run_id, publish, request.app.state.settings.intake_wait_s)
    if decided is not None and decided.state == RunState.FAILED:
        detail = f"run {run_id} refused: {decided.reason}"
        refused = RunRefused(
            id=run_id, state=decided.state, url=url, detail=detail, reason=decided.reason
        )
        return JSONResponse(refused.model_dump(mode="json"), status_code=422)
    return RunAccepted(id=run_id, state=decided.state if decided else RunState.PENDING, url=url)


@router.post("/runs/{run_id}/abort", status_code=202)
@needs(Scope.RUN)
async def abort_run(run_id: str, request: Request) -> dict[str, str]:
    """Stop the run (its process tree or container, and a pipeline's running steps)."""
    run = await ask(request, RUNS_GET, RunGet(run_id=run_id))
    if run["state"] in TERMINAL:
        raise HTTPException(409, f"run {run_id} already ended: {run['state']}")
    await request.app.state.service.bus.publish(RunAbortRequested(run_id=run_id))
    return {"id": run_id, "state": run["state"], "abort": "requested"}


@router.post("/runs/{run_id}/retry", status_code=202, response_model=RunAccepted, responses=REFUSED)
@needs(Scope.RUN)
async def retry_run(run_id: str, request: Request) -> Any:
    """Start a new run with what the given run was asked to do, and the same inputs."""
    run = RunView.model_validate(await ask(request, RUNS_GET, RunGet(run_id=run_id)))
    if run.parent_id:
        raise HTTPException(409, f"run {run_id} is a pipeline step: retry its pipeline")
    if run.substate == RunSubstate.REJECTED:  # never resolved into something to run again
        raise HTTPException(409, f"run {run_id} was refused ({run.reason}): submit a corrected run")
    inputs = {
        name: f"{ref.name}@{ref.version}" if ref.version else ref.digest or ref.name
        for name, ref in run.inputs.items()
    }
    target: dict[str, Any] = (
        {"component": run.component, "params": run.params, "inputs": inputs}
        if run.kind == "component"
        else {"pipeline": run.pipeline, "params": run.params, "inputs": inputs}
        if run.kind == "pipeline"
        else {"command": run.command, "env": run.env, "resources": run.resources}
    )
    cause = Cause(kind="manual", retry_of=run_id)
    return await _submit(request, RunRequested(**target, priority=run.priority, cause=cause))


@router.get("/runs", response_model=list[RunView])
@needs(Scope.READ)
async def list_runs(
    request: Request,
    state: RunState | None = None,
    component: Text | None = None,
    pipeline: Text | None = None,
    trigger: Text | None = None,
    parent_id: Text | None = None,
    since: Instant | None = None,
    before: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Any:
    """Runs, newest first, filtered by state, component, pipeline, trigger and time."""
    query = RunList(
        state=state,
        component=component,
        pipeline=pipeline,
        trigger=trigger,
        parent_id=parent_id,
        since=since,
        before=before,
        limit=limit,
    )
    return await ask(request, RUNS_LIST, query)


@router.get("/runs/{run_id}", response_model=RunView)
@needs(Scope.READ, own_run=True)
async def get_run(run_id: str, request: Request) -> Any:
    return await ask(request, RUNS_GET, RunGet(run_id=run_id))


@router.get("/runs/{run_id}/metrics", response_model=RunMetrics)
@needs(Scope.READ, own_run=True)
async def get_metrics(
    run_id: str,
    request: Request,
    points: Annotated[int, Query(ge=2, le=100_000, description="Per series at most.")] = 5000,
) -> Any:
    """Each metric's series (a longer one thinned to every k-th point, its last kept) and its
    summary (last, min, max, count: of every point)."""
    return await ask(request, RUNS_METRICS, RunMetricsGet(run_id=run_id, points=points))


@router.get("/runs/{run_id}/metrics/{name:path}/series", response_model=MetricSeries)
@needs(Scope.READ, own_run=True)
async def get_metric_series(
    run_id: str,
    name: Annotated[Text, Path(min_length=1, max_length=200, description="May hold `/`.")],
    request: Request,
    points: Annotated[int, Query(ge=2, le=10_000, description="At most this many.")] = 1000,
    x: Annotated[Literal["step", "time"], Query(description="The x axis.")] = "step",
) -> Any:
    """One metric's series for a chart, by step (points without one left out) or by time,
    thinned to at most `points` keeping its shape: of equal slices of the x axis the lowest
    and highest point, and the first and last points. 404 for no such run or metric."""
    query = MetricSeriesGet(run_id=run_id, name=name, x=x, points=points)
    return await ask(request, RUNS_METRIC_SERIES, query)


@router.get("/runs/{run_id}/logs", response_model=RunLogs)
@needs(Scope.READ, own_run=True)
async def get_logs(
    run_id: str, request: Request, format: Annotated[str, Query(pattern="^(json|text)$")] = "json"
) -> Any:
    """What the run printed so far, in order: the archive once it ended, until then the
    telemetry stream; 404 for no run."""
    lines = await read_logs(request, run_id)
    if not lines:  # a run that printed nothing yet, or no run at all: only the scheduler knows
        await ask(request, RUNS_GET, RunGet(run_id=run_id))
    if format == "text":
        return PlainTextResponse("".join(f"{line.line}\n" for line in lines))
    return RunLogs(run_id=run_id, lines=lines)
