"""FastAPI's 422 for a request that fails validation, able to answer every such request:
the default echoes each wrong input, and one JSON cannot carry back (a lone surrogate,
Infinity) turned the answer into a 500."""

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from shared import storable


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 (registered for it alone)
    errors = [
        {key: value for key, value in error.items() if key != "input" or _echoable(value)}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _echoable(value: object) -> bool:
    return storable.problem(value) is None
