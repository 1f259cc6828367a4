"""The triggers and monitors pages: lists with enable/disable for a token allowed to write,
a trigger's spec and history, a monitor's chart and crossings. Each page asks the trigger
service as the /v1 routes do."""

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from services.gateway import triggers as triggers_api
from services.gateway.ask import ask
from services.gateway.scopes import Principal, Requirement, Scope, needs, requirement_of
from services.gateway.ui import automation_views as views
from services.gateway.ui import session
from services.gateway.ui import views as run_views
from services.gateway.ui.render import forbidden, not_found, render
from shared.queries import (
    MONITORS_POINTS,
    RUNS_LIST,
    TRIGGERS_ENABLE,
    TRIGGERS_GET,
    TRIGGERS_HISTORY,
    TRIGGERS_LIST,
    Enable,
    Named,
    RunList,
    RunView,
)

router = APIRouter(include_in_schema=False)
HISTORY = 100
POINTS = 1000  # the newest points a monitor's chart shows
Csrf = Annotated[str, Form()]


def _v1(name: str) -> Callable[..., Any]:
    """The /v1 route's endpoint of that name (they are made in a loop, for both kinds)."""
    routes = triggers_api.router.routes
    return next(r.endpoint for r in routes if isinstance(r, APIRoute) and r.name == name)


def _may_switch(viewer: Principal, kind: str) -> bool:
    return session.allowed(viewer, _switch_needs(kind))


def _switch_needs(kind: str) -> Requirement:
    return requirement_of(_v1(f"enable_{kind}"))


async def _shown(request: Request, kind: str, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await ask(request, TRIGGERS_GET, Named(name=name, kind=kind))
    except HTTPException as err:
        if err.status_code != 404:
            raise
        return None
    return found


async def _listing(request: Request, kind: str) -> Response:
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    names = [row["name"] for row in await ask(request, TRIGGERS_LIST, Named(name="*", kind=kind))]
    shown = await asyncio.gather(*(_shown(request, kind, name) for name in names))
    rows = [views.summary(s) for s in shown if s is not None]
    can_switch = _may_switch(viewer, kind)
    return render(request, f"{kind}s/list.html", rows=rows, can_switch=can_switch, kind=kind)


@router.get("/triggers", response_class=HTMLResponse)
@needs(Scope.READ)
async def triggers_page(request: Request) -> Response:
    return await _listing(request, "trigger")


@router.get("/monitors", response_class=HTMLResponse)
@needs(Scope.READ)
async def monitors_page(request: Request) -> Response:
    return await _listing(request, "monitor")


@router.get("/triggers/{name}", response_class=HTMLResponse)
@needs(Scope.READ)
async def trigger_page(request: Request, name: str) -> Response:
    return await _detail(request, "trigger", name, "triggers/page.html")


@router.get("/triggers/{name}/history", response_class=HTMLResponse)
@needs(Scope.READ)
async def trigger_history(request: Request, name: str) -> Response:
    """A trigger's history: its page's live part, asked again as it changes."""
    return await _detail(request, "trigger", name, "triggers/history.html")


@router.get("/monitors/{name}", response_class=HTMLResponse)
@needs(Scope.READ)
async def monitor_page(request: Request, name: str) -> Response:
    return await _detail(request, "monitor", name, "monitors/page.html")


@router.get("/monitors/{name}/live", response_class=HTMLResponse)
@needs(Scope.READ)
async def monitor_live(request: Request, name: str) -> Response:
    """A monitor's chart, crossings and runs: its page's live part, asked again as they
    change."""
    return await _detail(request, "monitor", name, "monitors/live.html")


async def _detail(request: Request, kind: str, name: str, template: str) -> Response:
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    shown = await _shown(request, kind, name)
    if shown is None:
        return not_found(request, f"no {kind} named {name!r}")
    view = _trigger if kind == "trigger" else _monitor
    context = await view(request, name, shown)
    can_switch = _may_switch(viewer, kind)
    return render(request, template, **context, can_switch=can_switch, kind=kind)


async def _trigger(request: Request, name: str, shown: dict[str, Any]) -> dict[str, Any]:
    found = await ask(request, TRIGGERS_HISTORY, Named(name=name, kind="trigger", limit=HISTORY))
    return {
        "trigger": views.summary(shown),
        "spec": views.spec_text(shown["spec"]),
        "history": [views.firing(row) for row in found],
    }


async def _monitor(request: Request, name: str, shown: dict[str, Any]) -> dict[str, Any]:
    asked = Named(name=name, kind="monitor", limit=POINTS)
    found, points, caused = await asyncio.gather(
        ask(request, TRIGGERS_HISTORY, asked.model_copy(update={"limit": HISTORY})),
        ask(request, MONITORS_POINTS, asked),
        ask(request, RUNS_LIST, RunList(monitor=name, limit=HISTORY)),
    )
    crossings = [views.crossing(row) for row in found]
    return {
        "monitor": views.summary(shown),
        "rule": views.rule(shown["spec"]),
        "spec": views.spec_text(shown["spec"]),
        "chart": views.chart(shown["spec"], points, crossings),
        "crossings": crossings,
        "runs": [run_views.row(RunView.model_validate(run)) for run in caused],
    }


@router.post("/triggers/{name}/enable")
@needs(Scope.WRITE)
async def enable_trigger(request: Request, name: str, csrf: Csrf = "") -> Response:
    return await _switch(request, "trigger", name, csrf, enabled=True)


@router.post("/triggers/{name}/disable")
@needs(Scope.WRITE)
async def disable_trigger(request: Request, name: str, csrf: Csrf = "") -> Response:
    return await _switch(request, "trigger", name, csrf, enabled=False)


@router.post("/monitors/{name}/enable")
@needs(Scope.WRITE)
async def enable_monitor(request: Request, name: str, csrf: Csrf = "") -> Response:
    return await _switch(request, "monitor", name, csrf, enabled=True)


@router.post("/monitors/{name}/disable")
@needs(Scope.WRITE)
async def disable_monitor(request: Request, name: str, csrf: Csrf = "") -> Response:
    return await _switch(request, "monitor", name, csrf, enabled=False)


async def _switch(request: Request, kind: str, name: str, csrf: str, *, enabled: bool) -> Response:
    """Enable or disable, if the signed-in token may; then show the list again."""
    viewer = await session.viewer(request)
    if viewer is None:
        return session.to_login(request)
    session.check_csrf(request, csrf)
    if not _may_switch(viewer, kind):
        why = f"this needs scope {_switch_needs(kind).scope}: your token may only look"
        return forbidden(request, why)
    try:
        await ask(request, TRIGGERS_ENABLE, Enable(name=name, kind=kind, enabled=enabled))
    except HTTPException as err:
        if err.status_code != 404:
            raise
        return not_found(request, f"no {kind} named {name!r}")
    return RedirectResponse(f"/{kind}s", status_code=303)
