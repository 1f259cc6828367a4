"""Each service's own MetaData, and how its migrated database is compared with it.

SQLModel declares every table class of every service on one global `SQLModel.metadata`;
comparing a service's database with that would report the other services' tables.
"""

from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table
from sqlmodel import Field, SQLModel

from shared.outbox import InboxRow, OutboxRow


def _same_empty_default(
    _context: MigrationContext,
    _inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected: str | None,
    _metadata_default: Any,
    rendered: str | None,
) -> bool | None:
    # Alembic's SQLite comparison unquotes a string default only when it is not empty, so
    # it reads the ('') a migration wrote as differing from the model's "". None: Alembic's
    # own comparison decides every other default.
    if isinstance(metadata_column.type, sa.JSON) and inspected and rendered:
        # PostgreSQL's comparison asks the server `'{}'::json = '{}'`, and json has no `=`.
        return _json_text(inspected) != _json_text(rendered)
    return False if rendered == "" and inspected in ("''", "('')") else None


def _json_text(default: str) -> str:
    """`('{}')`, `'{}'::json` and `'{}'` → `{}`."""
    return default.strip("()").removesuffix("::json").strip("'")


# What Alembic's autogenerate compares beyond tables, columns and indexes: a column's type
# and its server default are what a migration wrote, so the models must say them too.
# (UTCDateTime needs no hook: Alembic compares a TypeDecorator by its DateTime(timezone=True).)
COMPARE: dict[str, Any] = {
    "compare_type": True,
    "compare_server_default": _same_empty_default,
}


def service_metadata(*rows: type[SQLModel]) -> MetaData:
    """The outbox and inbox every service has, plus the service's own tables."""
    metadata = MetaData()
    for row in (OutboxRow, InboxRow, *rows):
        table = row.__table__  # type: ignore[attr-defined]
        assert isinstance(table, Table)  # noqa: S101
        table.to_metadata(metadata)
    return metadata


def stored_default(value: str | bool | int | float, **field: Any) -> Any:
    """A field whose default the database holds as well: the migration that made the column
    gave it this server default, and the model says so (the ORM still sends `value`)."""
    server: Any
    if isinstance(value, bool):
        server = sa.true() if value else sa.false()
    elif isinstance(value, float):
        server = f"{value:g}"
    else:
        server = str(value)
    return Field(default=value, sa_column_kwargs={"server_default": server}, **field)
