"""The registry's queries, one module per thing it keeps; all run in the caller's session."""

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]]
) -> None:
    """Insert rows; a row whose key exists already is skipped (redeliveries add nothing)."""
    if not rows:
        return
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(rows).on_conflict_do_nothing()
    await session.exec(statement)


async def count(session: AsyncSession, query: Any) -> int:
    """How many rows `query` selects, ignoring its order, limit and offset."""
    inner = query.order_by(None).limit(None).offset(None).subquery()
    result = await session.exec(select(func.count()).select_from(inner))
    return int(result.one())
