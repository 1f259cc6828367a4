"""Handlers answer with a `Reply`: their result, or the refusal with its status and text."""

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from services.artifact.domain import Refused
from shared.internal_errors import internal_error
from shared.queries import Reply

log = logging.getLogger(__name__)


def answering(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Reply]]:
    """Wrap a handler: its result (or its refusal) becomes a Reply."""

    @functools.wraps(handler)
    async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Reply:
        try:
            result = await handler(self, *args, **kwargs)
        except Refused as refusal:
            return Reply(ok=False, status=refusal.status, error=refusal.message)
        except Exception:
            # The asker gets an answer now rather than its timeout; the log has the trace.
            return Reply(ok=False, status=500, error=internal_error(log, handler.__name__))
        return Reply(result=_json(result))

    # FastStream reads the signature to decode the body and to encode the reply.
    wrapped.__annotations__ = {**handler.__annotations__, "return": Reply}
    wrapped.__signature__ = inspect.signature(handler).replace(  # type: ignore[attr-defined]
        return_annotation=Reply
    )
    return wrapped


def _json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value
