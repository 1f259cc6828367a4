"""Registering something: 201 when it is new, 200 with what existed when it is not."""

from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from services.gateway.ask import ask


async def ask_created(request: Request, response: Response, subject: str, body: BaseModel) -> Any:
    result = await ask(request, subject, body)
    response.status_code = 201 if result.get("created") else 200
    return result
