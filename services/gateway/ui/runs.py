"""The runs table and a run's page, with abort and retry for a token allowed to run. Each
page asks the services as the /v1 routes do, and renders a template."""

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway import runs as runs_api
from services.gateway.ask import ask
from services.gateway.scopes import Requirement, Scope, needs, requirement_of
from services.gateway.ui import run_views, runs_query, session, views
from services.gateway.ui.lookups import run_of
from services.gateway.ui.render import forbidden, render
from shared.queries import RUNS_LIST, RunView

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/runs", response_class=HTMLResponse)
@needs(Scope.READ)
async def runs_page(request: Request, fragment: bool = False) -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    asked, problem = runs_query.read(request.query_params, PAGE + 1)
    found = [] if problem else await ask(request, RUNS_LIST, asked.query)
    runs = [RunView.model_validate(run) for run in found]
    rows = [views.row(run, asked.columns) for run in runs[:PAGE]]
    more = runs_query.next_page(asked, runs[PAGE - 1]) if len(runs) > PAGE else None
    template = "runs/table.html" if fragment else "runs/page.html"
    sort_link = partial(runs_query.sort_link, asked)
    return render(
        request, template, rows=rows, more=more, problem=problem, asked=asked, sort_link=sort_link
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
@needs(Scope.READ)
async def run_page(request: Request, run_id: str) -> Response:
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    run = await run_of(request, run_id)
    can_run = session.allowed(viewer, _needed(runs_api.abort_run))
    return render(
        request,
        "run/page.html",
        run=run,
        view=views.detail(run),
        can_run=can_run,
        chain=run_views.cause_chain(run),
        code=run_views.provenance(run),
        passed=run_views.inputs_and_outputs(run),
        asked=run_views.resources(run),
        moments=run_views.timeline(run, datetime.now(UTC)),
        lasted=run_views.lasted,
    )


@router.post("/runs/{run_id}/abort")
@needs(Scope.RUN)
async def abort(request: Request, run_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    return await _act(request, run_id, csrf, runs_api.abort_run)


@router.post("/runs/{run_id}/retry")
@needs(Scope.RUN)
async def retry(request: Request, run_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    return await _act(request, run_id, csrf, runs_api.retry_run)


async def _act(request: Request, run_id: str, csrf: str, action: Any) -> Response:
    """Do what a run page's button asks, if the signed-in token may: then show the run
    (the new one, for a retry)."""
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    session.check_csrf(request, csrf)
    if not session.allowed(viewer, _needed(action)):
        why = f"this needs scope {_needed(action).scope}: your token may only look"
        return forbidden(request, why)
    answer = await action(run_id, request)
    shown = getattr(answer, "id", run_id)
    return RedirectResponse(f"/runs/{shown}", status_code=303)


def _needed(endpoint: Any) -> Requirement:
    return requirement_of(endpoint)
