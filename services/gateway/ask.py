"""Asking a service over NATS request/reply, with its answer turned into HTTP."""

from typing import Any

from fastapi import HTTPException, Request
from nats.errors import NoRespondersError
from pydantic import BaseModel

from shared.queries import Reply


async def ask(request: Request, subject: str, query: BaseModel) -> Any:
    """The reply's result; a refusal becomes its HTTP status with the service's message."""
    broker = request.app.state.service.broker
    timeout = request.app.state.settings.query_timeout_s
    try:
        message = await broker.request(query, subject, timeout=timeout)
    except (TimeoutError, NoRespondersError):
        service = subject.split(".")[1]
        raise HTTPException(503, f"no answer from {service} within {timeout}s") from None
    reply = Reply.model_validate(await message.decode())
    if not reply.ok:
        detail: Any = reply.error
        if isinstance(reply.result, dict) and reply.result.get("problems"):
            detail = {"error": reply.error, "problems": reply.result["problems"]}
        raise HTTPException(reply.status, detail)
    return reply.result
