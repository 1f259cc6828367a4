"""A server fault is answered with an id, never its text: an exception's message can hold
SQL with its parameters, paths or secrets. The log keeps the whole of it under that id."""

import logging
import uuid

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def internal_error(log: logging.Logger, what: str) -> str:
    """Log the exception being handled under a new id; return what a client may be told."""
    error_id = uuid.uuid4()
    log.exception("%s: internal error, id %s", what, error_id)
    return f"internal error, id {error_id}"


class InternalErrors:
    """ASGI middleware: an exception no handler caught becomes a 500 `internal error, id …`."""

    def __init__(self, app: ASGIApp, logger: str = __name__) -> None:
        self.app = app
        self.log = logging.getLogger(logger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            text = internal_error(self.log, f"{scope['method']} {scope['path']}")
            if not started:  # else the client sees the connection end mid-response
                await JSONResponse({"detail": text}, status_code=500)(scope, receive, send)
