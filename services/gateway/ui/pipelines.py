"""Pipelines and components: a pipeline run's steps as a live DAG (a fragment of the run
page), and the registered specs — lists, each one's versions, highlighted spec, recent runs
and, for a pipeline, its DAG. Each page asks the services as the /v1 routes do."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.ask import ask
from services.gateway.scopes import Scope, needs
from services.gateway.ui import pipeline_views, session
from services.gateway.ui.lookups import run_of
from services.gateway.ui.render import not_found, render
from services.gateway.ui.spec_text import highlighted, spec_yaml
from shared.queries import (
    COMPONENT_GET,
    PIPELINE_GET,
    RUNS_LIST,
    RefQuery,
    RunList,
    RunView,
)
from shared.registry_api import (
    COMPONENT_VERSIONS,
    COMPONENTS_LIST,
    PIPELINE_VERSIONS,
    PIPELINES_LIST,
    ComponentView,
    ListQuery,
    PipelineView,
    VersionsQuery,
)
from shared.specs import PipelineSpec

router = APIRouter(include_in_schema=False)
LISTED = 100  # specs a list page shows at once
VERSIONS = 50
RECENT = 10
# Each kind of spec: its registry queries and its view.
KINDS: dict[str, tuple[str, str, str, type[ComponentView] | type[PipelineView]]] = {
    "component": (COMPONENTS_LIST, COMPONENT_VERSIONS, COMPONENT_GET, ComponentView),
    "pipeline": (PIPELINES_LIST, PIPELINE_VERSIONS, PIPELINE_GET, PipelineView),
}


@router.get("/runs/{run_id}/steps", response_class=HTMLResponse)
@needs(Scope.READ)
async def run_steps(request: Request, run_id: str) -> Response:
    """A pipeline run's steps: the run page's fragment (htmx asks), or a page of its own."""
    if await session.viewer(request) is None:
        return session.to_login(request)
    run = await run_of(request, run_id)
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
    *_, get, view = KINDS[kind]
    try:
        return view.model_validate(await ask(request, get, RefQuery(ref=ref)))
    except HTTPException as err:
        if err.status_code not in (404, 422):
            raise
        return None


def _spec_pages(kind: str) -> None:
    """The same two pages for components and pipelines."""
    listing, versions, _, _ = KINDS[kind]
    plural = f"{kind}s"

    @router.get(f"/{plural}", response_class=HTMLResponse, name=f"ui_{plural}")
    @needs(Scope.READ)
    async def list_page(request: Request, offset: str = "0") -> Response:
        if await session.viewer(request) is None:
            return session.to_login(request)
        skip, problem = pipeline_views.list_offset(offset)
        page = await ask(request, listing, ListQuery(limit=LISTED, offset=skip))
        more = skip + LISTED if page["total"] > skip + LISTED else None
        items = [KINDS[kind][3].model_validate(item) for item in page["items"]]
        template = f"{plural}/list.html"
        return render(request, template, items=items, more=more, kind=kind, problem=problem)

    @router.get(f"/{plural}/{{name}}", response_class=HTMLResponse, name=f"ui_{kind}")
    @needs(Scope.READ)
    async def spec_page(request: Request, name: str, version: str = "") -> Response:
        if await session.viewer(request) is None:
            return session.to_login(request)
        ref, problem = pipeline_views.spec_ref(kind, name, version)
        found = None if problem else await _spec(request, kind, ref)
        if found is None:
            return not_found(request, problem or f"no {kind} version {ref!r}")
        listed = await ask(request, versions, VersionsQuery(name=found.name, limit=VERSIONS))
        return render(
            request,
            f"{plural}/page.html",
            spec=found,
            kind=kind,
            text=highlighted(spec_yaml(found.spec)),
            versions=[KINDS[kind][3].model_validate(item) for item in listed["items"]],
            runs=await _recent(request, kind, found.name),
            graph=pipeline_views.spec_graph(found) if kind == "pipeline" else None,
        )


async def _recent(request: Request, kind: str, name: str) -> list[RunView]:
    """Its latest runs: for a pipeline, the pipeline runs (not their steps')."""
    found = await ask(request, RUNS_LIST, RunList(**{kind: name}, limit=RECENT * 4))
    runs = [RunView.model_validate(run) for run in found]
    return [run for run in runs if run.kind == kind][:RECENT]


_spec_pages("component")
_spec_pages("pipeline")
