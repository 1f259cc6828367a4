"""What a form's POST did, told on the page it redirects to (POST-redirect-GET: a reload
repeats nothing): kept in a short-lived cookie of that page's path, shown once."""

import base64
import binascii
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

COOKIE = "boxops_flash"
MAX_AGE_S = 60  # long enough for the redirect to be followed, not to linger
Told = TypeVar("Told", bound=BaseModel)


def keep(request: Request, response: Response, path: str, told: BaseModel) -> None:
    """Keep `told` for the next page at `path`."""
    value = base64.urlsafe_b64encode(told.model_dump_json().encode()).decode()
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE_S,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def read(request: Request, model: type[Told]) -> Told | None:
    """What was kept for this page, if anything (a cookie that is not one is nothing)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        return model.model_validate_json(base64.urlsafe_b64decode(value.encode()))
    except (binascii.Error, ValueError, ValidationError):
        return None


def forget(response: Response, path: str) -> None:
    """Shown: not again on a reload."""
    response.delete_cookie(COOKIE, path=path, httponly=True, samesite="strict")
