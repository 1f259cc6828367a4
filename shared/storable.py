"""What every database boxops runs on can store: text without NUL characters (PostgreSQL
refuses them) that is valid Unicode, finite numbers (JSON has no Infinity), integers the
column holds, times that stay in the calendar once in UTC. Checked where a request comes
in, so an accepted request can be recorded: `problem` for a whole value, and a pydantic
type per rule for every route, query and contract that takes such a value, so it is a 422
naming the field, never a database error (a 500) where it is stored or compared.
"""

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # PostgreSQL's INTEGER: versions, metric steps
INT64_MAX = 2**63 - 1  # PostgreSQL's BIGINT and OFFSET, SQLite's INTEGER


def problem(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """Why `value` (text, a number, or lists and dicts of them) cannot be stored; None if
    it can. Names where in the value the problem is."""
    if isinstance(value, str):
        return _text_problem(value, path)
    if isinstance(value, float) and not math.isfinite(value):
        return _at(f"{value} cannot be stored: give a finite number", path)
    if isinstance(value, dict):
        items = ((str(key), key, item) for key, item in value.items())
        return next(filter(None, (_item_problem(n, k, i, path) for n, k, i in items)), None)
    if isinstance(value, list | tuple):
        found = (problem(item, (*path, str(n))) for n, item in enumerate(value))
        return next(filter(None, found), None)
    return None


def _item_problem(name: str, key: Any, item: Any, path: tuple[str, ...]) -> str | None:
    return problem(key, path) or problem(item, (*path, name))


def _text_problem(text: str, path: tuple[str, ...]) -> str | None:
    if "\x00" in text:
        return _at("a NUL character cannot be stored", path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _at("text that is not valid Unicode (a lone surrogate) cannot be stored", path)
    return None


def _at(message: str, path: tuple[str, ...]) -> str:
    return f"{message} (at {'.'.join(path)})" if path else message


def storable_text(text: str) -> str:
    if why := _text_problem(text, ()):
        raise ValueError(why)
    return text


def in_utc(value: datetime) -> datetime:
    """The instant in UTC (a time without a zone is local time, as the databases read it)."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"{value.isoformat()} is out of range once in UTC") from None


Text = Annotated[str, AfterValidator(storable_text)]
Instant = Annotated[datetime, AfterValidator(in_utc)]
Offset = Annotated[int, Field(ge=0, le=INT64_MAX, description="How many items to skip.")]
ByteCount = Annotated[int, Field(ge=0, le=INT64_MAX)]
VersionNumber = Annotated[int, Field(ge=1, le=INT32_MAX)]
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
