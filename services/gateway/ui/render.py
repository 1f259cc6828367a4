"""Rendering a page: the templates, what every page gets (CSRF token, run states, the
navigation), and the pages every area shows alike (not found, not allowed)."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.gateway.ui import session
from shared.runs import RunState

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
static = StaticFiles(directory=HERE / "static")

# The header's links, in order: (label, path). Each area's pages live under its path.
NAV = [
    ("Runs", "/runs"),
    ("Compare", "/compare"),
    ("Pipelines", "/pipelines"),
    ("Components", "/components"),
    ("Datasets", "/datasets"),
    ("Models", "/models"),
    ("Triggers", "/triggers"),
    ("Monitors", "/monitors"),
    ("Events", "/events"),
]


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    signed_in = template != "login.html" and bool(session.csrf_token(request))
    context |= {
        "csrf": session.csrf_token(request),
        "states": list(RunState),
        "signed_in": signed_in,
        "nav": NAV,
        "here": request.url.path,
    }
    return templates.TemplateResponse(request, template, context, status_code=status)


def not_found(request: Request, what: str) -> Response:
    """The 404 page, naming what was asked for."""
    return render(request, "not_found.html", what=what, status=404)


def forbidden(request: Request, why: str) -> Response:
    return render(request, "forbidden.html", why=why, status=403)


def problem(request: Request, status: int, detail: str) -> Response:
    """A page's error as a page (a service not answering, a bad request), not JSON."""
    title = "Not found" if status == 404 else "Unavailable" if status >= 500 else "Problem"
    return render(request, "problem.html", title=title, detail=detail, status=status)


def is_page(path: str) -> bool:
    """Whether a path is the UI's (its errors are pages), not the API's or a file's."""
    return not path.startswith(API_PATHS)


API_PATHS = ("/v1/", "/static/", "/docs", "/redoc", "/openapi.json", "/healthz")
