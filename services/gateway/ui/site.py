"""The web UI's site: login and logout, and each area's pages (one router a module)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.auth import principal_of
from services.gateway.scopes import Scope, needs
from services.gateway.ui import metrics, runs, session
from services.gateway.ui.render import render, static

router = APIRouter(include_in_schema=False)
# Each area of the UI, a module with its own router.
AREAS = [
    runs,
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
    principal = await principal_of(request, token, None)
    if principal is None or principal.run_id is not None:
        message = "unknown, revoked or expired token"
        return render(request, "login.html", next=_local(next), message=message, status=401)
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


def _local(path: str) -> str:
    """Only a path of this site to go back to after the login (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") else "/runs"


for area in AREAS:
    router.include_router(area.router)
