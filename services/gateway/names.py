"""Names in URL paths: each reaches its route, and is checked there by the one rule.

A client encodes a `/` in a name as `%2F` (the CLI does), but the ASGI server decodes the
path before routing: `/v1/datasets/a%2F..%2Fb/versions` would be routed as
`/v1/datasets/a/../b/versions`, match nothing and get a bare 404. `routable` routes the
paths that hold names on their raw segments instead, each decoded but with its `/` kept as
`%2F`, so the name lands on its route as one segment and its check says what is wrong with
it. A valid name holds no `%`, so it is routed exactly as before.

A client that sends the `/` unencoded (`curl …/v1/datasets/a/b/versions`) reaches no route;
`unrouted` then finds the route the path was meant for, with the `/` inside its name, and
answers what that route would have: 422 naming the name and the rule.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.names import BadName, check_name

# The collections whose paths carry names (`/v1/datasets/{name}/…`).
NAMED = ("datasets", "models", "components", "pipelines", "triggers", "monitors", "lineage")
ENCODED_SLASH = "%2F"
SLASH_CODE = re.compile("%2F", re.IGNORECASE)


def checked(kind: str) -> Callable[[str], str]:
    """A dependency reading the `name` path parameter; 422 naming the rule if it breaks it."""

    def name(name: str) -> str:
        # Back to the `/` the client meant; a name holding `%` breaks the rule either way.
        try:
            return check_name(name.replace(ENCODED_SLASH, "/"), f"{kind} name")
        except BadName as err:
            raise HTTPException(422, str(err)) from None

    return name


DatasetName = Annotated[str, Depends(checked("dataset"))]
ModelName = Annotated[str, Depends(checked("model"))]


def routable(raw_path: str) -> str | None:
    """The path to route on, if `raw_path` holds an encoded `/` under a named collection."""
    parts = raw_path.split("/")
    collection = parts[2] if len(parts) > 2 and parts[1] == "v1" else None
    if collection not in NAMED or not SLASH_CODE.search(raw_path):
        return None
    return "/".join(
        ENCODED_SLASH.join(unquote(piece) for piece in SLASH_CODE.split(part)) for part in parts
    )


class EncodedSlashes:
    """ASGI middleware: route paths holding names on `routable`'s path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] == "http" and scope.get("raw_path"):
            path = routable(scope["raw_path"].decode("latin-1"))
            if path is not None:
                scope = {**scope, "path": path}
        await self.app(scope, receive, send)


async def unrouted(request: Request, error: Exception) -> Response:
    """The app's handler of HTTP errors: a path that matched no route because a name in it
    holds a `/` gets 422 naming it; every other error is answered as FastAPI does."""
    assert isinstance(error, StarletteHTTPException)  # noqa: S101 (registered for it alone)
    meant = _meant(request) if (error.status_code, error.detail) == (404, "Not Found") else None
    if meant is not None:
        kind, name = meant
        try:
            check_name(name, f"{kind} name")
        except BadName as err:
            return JSONResponse({"detail": str(err)}, status_code=422)
    return await http_exception_handler(request, error)


def _meant(request: Request) -> tuple[str, str] | None:
    """(kind, name) of the route the path fits once its name may hold `/`: the route with
    the most segments first, so `…/a/b/versions` is dataset `a/b`'s versions."""
    # The OpenAPI document lists every route's path template and methods (and is cached).
    paths = request.app.openapi()["paths"]
    method = request.method.lower()
    templates = [p for p, methods in paths.items() if "{name}" in p and method in methods]
    for template in sorted(templates, key=lambda p: p.count("/"), reverse=True):
        found = re.fullmatch(_with_slashed_name(template), request.url.path)
        if found:
            collection = template.split("/{name}")[0].rsplit("/", 1)[1]
            return collection.removesuffix("s"), found["name"]
    return None


def _with_slashed_name(path: str) -> str:
    parts = re.split(r"(\{[^}]+\})", path)
    return "".join(
        "(?P<name>.+)" if part == "{name}" else "[^/]+" if part.startswith("{") else re.escape(part)
        for part in parts
    )
