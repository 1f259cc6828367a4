"""The UI's pages: login, the runs table and a run, with abort and retry for a token
allowed to run. Each page asks the services as the /v1 routes do, and renders a template."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.gateway import runs as runs_api
from services.gateway.ask import ask
from services.gateway.auth import principal_of
from services.gateway.scopes import Requirement, Scope, needs, requirement_of
from services.gateway.ui import session, views
from shared.queries import RUNS_GET, RUNS_LIST, RunGet, RunView
from shared.runs import RunState

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")
static = StaticFiles(directory=HERE / "static")
PAGE = 50


@router.get("/")
@needs(Scope.READ)
async def home() -> RedirectResponse:
    return RedirectResponse("/runs", status_code=303)


@router.get("/login", response_class=HTMLResponse)
@needs(Scope.READ)
async def login_page(request: Request, next: str = "/runs") -> Response:
    return _render(request, "login.html", next=_local(next))


@router.post("/login")
@needs(Scope.READ)
async def login(
    request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/runs"
) -> Response:
    principal = await principal_of(request, token)
    if principal is None or principal.run_id is not None:
        message = "unknown, revoked or expired token"
        return _render(request, "login.html", next=_local(next), message=message, status=401)
    response = RedirectResponse(_local(next), status_code=303)
    session.sign_in(response, token, secure=request.url.scheme == "https")
    return response


@router.post("/logout")
@needs(Scope.READ)
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session.check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    session.sign_out(response)
    return response


@router.get("/runs", response_class=HTMLResponse)
@needs(Scope.READ)
async def runs_page(request: Request, fragment: bool = False) -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    query, problem = views.run_filters(request.query_params, PAGE + 1)
    found = [] if problem else await ask(request, RUNS_LIST, query)
    rows = [views.row(RunView.model_validate(run)) for run in found[:PAGE]]
    more = views.next_page(request.query_params, found[PAGE - 1]) if len(found) > PAGE else None
    template = "runs/table.html" if fragment else "runs/page.html"
    return _render(request, template, rows=rows, more=more, problem=problem, **views.form(query))


@router.get("/runs/{run_id}", response_class=HTMLResponse)
@needs(Scope.READ)
async def run_page(request: Request, run_id: str) -> Response:
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    try:
        run = RunView.model_validate(await ask(request, RUNS_GET, RunGet(run_id=run_id)))
    except HTTPException as err:
        if err.status_code != 404:
            raise
        return _render(request, "not_found.html", what=f"no run with id {run_id!r}", status=404)
    can_run = session.allowed(viewer, _needed(runs_api.abort_run))
    return _render(request, "run/page.html", run=run, view=views.detail(run), can_run=can_run)


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
        return _render(request, "forbidden.html", why=why, status=403)
    answer = await action(run_id, request)
    shown = getattr(answer, "id", run_id)
    return RedirectResponse(f"/runs/{shown}", status_code=303)


def _needed(endpoint: Any) -> Requirement:
    return requirement_of(endpoint)


def _local(path: str) -> str:
    """Only a path of this site to go back to after the login (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") else "/runs"


def _render(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    signed_in = template != "login.html"
    context |= {
        "csrf": session.csrf_token(request),
        "states": list(RunState),
        "signed_in": signed_in,
    }
    return templates.TemplateResponse(request, template, context, status_code=status)
