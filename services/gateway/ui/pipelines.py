"""Pipelines: a pipeline run's steps as a live DAG (a fragment of the run page). Each page
asks the services as the /v1 routes do."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.ask import ask
from services.gateway.scopes import Scope, needs
from services.gateway.ui import pipeline_views, session
from services.gateway.ui.render import not_found, render
from shared.queries import (
    COMPONENT_GET,
    PIPELINE_GET,
    RUNS_GET,
    RefQuery,
    RunGet,
    RunView,
)
from shared.registry_api import ComponentView, PipelineView
from shared.specs import PipelineSpec

router = APIRouter(include_in_schema=False)
# Each kind of spec: its registry query and its view.
KINDS: dict[str, tuple[str, type[ComponentView] | type[PipelineView]]] = {
    "component": (COMPONENT_GET, ComponentView),
    "pipeline": (PIPELINE_GET, PipelineView),
}


@router.get("/runs/{run_id}/steps", response_class=HTMLResponse)
@needs(Scope.READ)
async def run_steps(request: Request, run_id: str) -> Response:
    """A pipeline run's steps: the run page's fragment (htmx asks), or a page of its own."""
    if await session.viewer(request) is None:
        return session.to_login(request)
    try:
        run = RunView.model_validate(await ask(request, RUNS_GET, RunGet(run_id=run_id)))
    except HTTPException as err:
        if err.status_code != 404:
            raise
        return not_found(request, f"no run with id {run_id!r}")
    if run.kind != "pipeline":
        return not_found(request, f"run {run_id!r} is not a pipeline run: it has no steps")
    spec = await _run_spec(request, run)
    fragment = "hx-request" in request.headers
    return render(
        request,
        "pipelines/steps.html" if fragment else "pipelines/steps_page.html",
        run=run,
        graph=pipeline_views.run_graph(spec, run.steps),
        rows=pipeline_views.step_rows(spec, run.steps),
    )


async def _run_spec(request: Request, run: RunView) -> PipelineSpec | None:
    """The spec of the pipeline version the run ran (versions never change)."""
    if not run.pipeline:
        return None
    found = await _spec(request, "pipeline", run.pipeline)
    return PipelineSpec.model_validate(found.spec) if found else None


async def _spec(request: Request, kind: str, ref: str) -> Any:
    """The registered version `ref` names, or None."""
    get, view = KINDS[kind]
    try:
        return view.model_validate(await ask(request, get, RefQuery(ref=ref)))
    except HTTPException as err:
        if err.status_code not in (404, 422):
            raise
        return None
