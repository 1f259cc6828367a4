"""A route whose body is JSON reads it as JSON whatever content type the client sent.

`curl -d` labels its body application/x-www-form-urlencoded and some clients send no
content type at all; FastAPI then leaves the body unparsed and answers "Input should be a
valid dictionary". No route here takes a form, so a JSON route relabels such a body
application/json; routes that take YAML text or stream bytes keep the label they got. A
body that is not JSON still gets FastAPI's 422 naming the decode error. Every route needs
a bearer token, which a browser does not send cross-site, so this opens no CSRF hole.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Scope

from services.gateway.scopes import document_scope

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
UNLABELLED = {"", "application/x-www-form-urlencoded"}


class JsonRoute(APIRoute):
    """The route class of every gateway router: it also puts the scope its endpoint needs
    (scopes.needs) into the OpenAPI document."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        document_scope(self)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not _takes_json(self):
            return handler

        async def relabelled(request: Request) -> Response:
            label = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if label in UNLABELLED:
                request = Request(_as_json(request.scope), request.receive)
            return await handler(request)

        return relabelled


def _takes_json(route: APIRoute) -> bool:
    if route.body_field is None:
        return False
    media_type: str = getattr(route.body_field.field_info, "media_type", "")
    return media_type == "application/json" or media_type.endswith("+json")


def _as_json(scope: Scope) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
