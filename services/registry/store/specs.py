"""Components and pipelines: immutable numbered versions of a spec."""

from typing import TypeVar

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry.store import count
from services.registry.tables import ComponentRow, PipelineRow
from shared.db import starts_with
from shared.registry_api import ListQuery

Row = TypeVar("Row", ComponentRow, PipelineRow)


async def by_digest(session: AsyncSession, table: type[Row], name: str, digest: str) -> Row | None:
    query = select(table).where(table.name == name, table.digest == digest)
    return (await session.exec(query)).first()


async def latest(session: AsyncSession, table: type[Row], name: str) -> Row | None:
    query = select(table).where(table.name == name).order_by(col(table.version).desc()).limit(1)
    return (await session.exec(query)).first()


async def version(session: AsyncSession, table: type[Row], name: str, number: int) -> Row | None:
    query = select(table).where(table.name == name, table.version == number)
    return (await session.exec(query)).first()


async def add(session: AsyncSession, row: Row) -> Row:
    session.add(row)
    await session.flush()
    return row


async def page(session: AsyncSession, table: type[Row], query: ListQuery) -> tuple[list[Row], int]:
    """The latest version of each name, by name."""
    newest = select(table.name, func.max(table.version).label("version")).group_by(col(table.name))
    if query.prefix:
        newest = newest.where(starts_with(col(table.name), query.prefix))
    inner = newest.subquery()
    rows = (
        select(table)
        .join(inner, (col(table.name) == inner.c.name) & (col(table.version) == inner.c.version))
        .order_by(col(table.name))
    )
    if query.type and table is ComponentRow:
        rows = rows.where(ComponentRow.type == query.type)
    total = await count(session, rows)
    return list((await session.exec(rows.offset(query.offset).limit(query.limit))).all()), total


async def versions(
    session: AsyncSession, table: type[Row], name: str, *, limit: int, offset: int
) -> tuple[list[Row], int]:
    query = select(table).where(table.name == name).order_by(col(table.version).desc())
    total = await count(session, query)
    return list((await session.exec(query.offset(offset).limit(limit))).all()), total
