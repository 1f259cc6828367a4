"""What an error answer holds, as the OpenAPI document says: `detail` is a sentence naming
what is wrong, FastAPI's list of the fields it refused, or a spec's problems one a line."""

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query or path, then the field.")
    msg: str
    type: str


class SpecProblems(BaseModel):
    error: str
    problems: list[str] = Field(description="Each problem with its field and line.")


class Problem(BaseModel):
    detail: str | list[FieldError] | SpecProblems


# JSON whatever the route's own answers are (a server-sent stream's error is JSON too).
_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": Problem,
        "content": _JSON,
        "description": "Refused: the request names what is wrong.",
    },
    "5XX": {
        "model": Problem,
        "content": _JSON,
        "description": "A fault ('internal error, id …') or no answer.",
    },
}
