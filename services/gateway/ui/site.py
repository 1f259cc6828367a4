"""The web UI's site: login and logout, and each area's pages (one router a module)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.auth import principal_of
from services.gateway.scopes import Scope, needs
from services.gateway.ui import (
    automation,
    catalog,
    datasets,
    events,
    metrics,
    models,
    pipelines,
    previews,
    runs,
    session,
)
from services.gateway.ui.render import render, static

router = APIRouter(include_in_schema=False)
# Each area of the UI, a module with its own router.
AREAS = [
    runs,
    pipelines,
    previews,
    datasets,
    models,
    catalog,
    automation,
    events,
    metrics,
]
__all__ = ["router", "static"]


@router.get("/")
@needs(Scope.READ)
async def home() -> RedirectResponse:
    return RedirectResponse("/runs", status_code=303)


@router.get("/login", response_class=HTMLResponse)
@needs(Scope.READ)
async def login_page(request: Request, next: str = "/runs") -> Response:
    return render(request, "login.html", next=_local(next))


@router.post("/login")
@needs(Scope.READ)
async def login(
    request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/runs"
) -> Response:
    principal = await principal_of(request, token)
    if principal is None or principal.run_id is not None:
        return _refused(request, next, "unknown, revoked or expired token", 401)
    return _signed_in(request, token, next)


@router.get("/login/link/{code}")
@needs(Scope.READ)
async def login_by_link(request: Request, code: str, next: str = "/runs") -> Response:
    """A one-time link (`boxops ui` opens one): signs in with the token that asked for it."""
    token = request.app.state.login_links.redeem(code)
    if token is None:
        why = "this sign-in link was used already or has expired: log in with your token"
        return _refused(request, next, why, 410)
    return _signed_in(request, token, next)


@router.post("/logout")
@needs(Scope.READ)
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session.check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    session.sign_out(response)
    return response


def _signed_in(request: Request, token: str, next: str) -> Response:
    response = RedirectResponse(_local(next), status_code=303)
    session.sign_in(response, token, secure=request.url.scheme == "https")
    return response


def _refused(request: Request, next: str, message: str, status: int) -> Response:
    return render(request, "login.html", next=_local(next), message=message, status=status)


def _local(path: str) -> str:
    """Only a path of this site to go back to after the login (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") else "/runs"


for area in AREAS:
    router.include_router(area.router)
