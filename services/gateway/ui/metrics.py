"""Metrics as charts: the compare page of 2 to 10 runs (params side by side, a summary table,
one chart a metric with each run a series), or recent runs to pick from. A run's own
charts are a section of its page (templates/metrics/run.html); the charts' points come
from /v1/runs/{id}/metrics/{name}/series, thinned by the scheduler."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.ask import ask
from services.gateway.scopes import Scope, needs
from services.gateway.ui import metrics_views, session, views
from services.gateway.ui.render import not_found, render
from shared.queries import RUNS_GET, RUNS_LIST, RunGet, RunList, RunView

router = APIRouter(include_in_schema=False)
RECENT = 30  # runs offered to pick from


@router.get("/compare", response_class=HTMLResponse)
@needs(Scope.READ)
async def compare_page(request: Request) -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    asked = ",".join(request.query_params.getlist("runs"))
    if not asked.strip():
        return await _pick(request, problem=None)
    ids, problem = metrics_views.run_ids(asked)
    if problem:
        return await _pick(request, problem=problem, asked=asked)
    found = {run_id: await _run(request, run_id) for run_id in ids}
    unknown = [run_id for run_id, run in found.items() if run is None]
    if unknown:
        return not_found(request, "no run with id " + ", ".join(map(repr, unknown)))
    runs = [run for run in found.values() if run is not None]
    return render(
        request,
        "metrics/compare.html",
        runs=runs,
        rows={run.id: views.row(run) for run in runs},
        params=metrics_views.params(runs),
        charts=metrics_views.charts(runs),
        number=metrics_views.number,
    )


async def _pick(request: Request, *, problem: str | None, asked: str = "") -> Response:
    """The recent runs with a box each to pick which to compare."""
    recent = await ask(request, RUNS_LIST, RunList(limit=RECENT))
    rows = [views.row(RunView.model_validate(run)) for run in recent]
    return render(request, "metrics/pick.html", rows=rows, problem=problem, asked=asked)


async def _run(request: Request, run_id: str) -> RunView | None:
    try:
        return RunView.model_validate(await ask(request, RUNS_GET, RunGet(run_id=run_id)))
    except HTTPException as err:
        if err.status_code != 404:
            raise
        return None
