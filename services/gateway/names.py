"""Names in URL paths: each reaches its route, and is checked there by the one rule.

A client encodes a `/` in a name as `%2F` (the CLI does), but the ASGI server decodes the
path before routing: `/v1/datasets/a%2F..%2Fb/versions` would be routed as
`/v1/datasets/a/../b/versions`, match nothing and get a bare 404. `routable` routes the
paths that hold names on their raw segments instead, each decoded but with its `/` kept as
`%2F`, so the name lands on its route as one segment and its check says what is wrong with
it. A valid name holds no `%`, so it is routed exactly as before.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, HTTPException
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
