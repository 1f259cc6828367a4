"""Values every database of ours can store, as pydantic types: one rule each, used by every
route, query and contract that takes such a value, so a value out of range is a 422 naming
the field where it comes in, never a database error (a 500) where it is stored or compared.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

INT64_MAX = 2**63 - 1  # PostgreSQL's BIGINT and OFFSET, SQLite's INTEGER
INT32_MAX = 2**31 - 1  # PostgreSQL's INTEGER: version numbers, metric steps

Offset = Annotated[int, Field(ge=0, le=INT64_MAX, description="How many items to skip.")]
ByteCount = Annotated[int, Field(ge=0, le=INT64_MAX)]
VersionNumber = Annotated[int, Field(ge=1, le=INT32_MAX)]
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]


def no_nul(value: str) -> str:
    """PostgreSQL stores no NUL character in text, and no name or filter needs one."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\x00)")
    return value


def in_utc(value: datetime) -> datetime:
    """The instant in UTC (a time without a zone is local time, as the databases read it)."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"{value.isoformat()} is out of range once in UTC") from None


Text = Annotated[str, AfterValidator(no_nul)]
Instant = Annotated[datetime, AfterValidator(in_utc)]
