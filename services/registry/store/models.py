"""Models, their versions and aliases."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry.store import count
from services.registry.tables import AliasRow, ModelRow, ModelVersionRow
from shared.db import starts_with
from shared.registry_api import ListQuery


async def model(session: AsyncSession, name: str) -> ModelRow | None:
    return (await session.exec(select(ModelRow).where(ModelRow.name == name))).first()


async def add(session: AsyncSession, row: ModelRow) -> ModelRow:
    session.add(row)
    await session.flush()
    return row


async def by_digest(session: AsyncSession, model_id: int, digest: str) -> ModelVersionRow | None:
    query = select(ModelVersionRow).where(
        ModelVersionRow.model_id == model_id, ModelVersionRow.digest == digest
    )
    return (await session.exec(query)).first()


async def latest(session: AsyncSession, model_id: int) -> ModelVersionRow | None:
    query = (
        select(ModelVersionRow)
        .where(ModelVersionRow.model_id == model_id)
        .order_by(col(ModelVersionRow.version).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def version(session: AsyncSession, model_id: int, number: int) -> ModelVersionRow | None:
    query = select(ModelVersionRow).where(
        ModelVersionRow.model_id == model_id, ModelVersionRow.version == number
    )
    return (await session.exec(query)).first()


async def add_version(session: AsyncSession, row: ModelVersionRow) -> ModelVersionRow:
    session.add(row)
    await session.flush()
    return row


async def aliases(session: AsyncSession, model_id: int) -> dict[str, int]:
    query = select(AliasRow).where(AliasRow.model_id == model_id).order_by(col(AliasRow.alias))
    return {row.alias: row.version for row in (await session.exec(query)).all()}


async def alias(session: AsyncSession, model_id: int, name: str) -> AliasRow | None:
    return await session.get(AliasRow, (model_id, name))


async def set_alias(
    session: AsyncSession, model_id: int, name: str, number: int, now: datetime
) -> int | None:
    """Point the alias at a version; returns the version it pointed at before."""
    row = await session.get(AliasRow, (model_id, name))
    previous = row.version if row else None
    if row is None:
        row = AliasRow(model_id=model_id, alias=name, version=number, updated_at=now)
    row.version, row.updated_at = number, now
    session.add(row)
    await session.flush()
    return previous


async def page(
    session: AsyncSession, query: ListQuery
) -> tuple[list[tuple[ModelRow, int | None, int]], int]:
    rows = select(ModelRow).order_by(col(ModelRow.name))
    if query.prefix:
        rows = rows.where(starts_with(col(ModelRow.name), query.prefix))
    found = list((await session.exec(rows)).all())
    if query.tag:
        found = [r for r in found if query.tag in r.tags]
    total = len(found)
    found = found[query.offset : query.offset + query.limit]
    ids = [r.id for r in found if r.id is not None]
    stats: dict[int, tuple[int, int]] = {}
    if ids:
        grouped = (
            select(ModelVersionRow.model_id, func.max(ModelVersionRow.version), func.count())
            .where(col(ModelVersionRow.model_id).in_(ids))
            .group_by(col(ModelVersionRow.model_id))
        )
        stats = {r[0]: (r[1], r[2]) for r in (await session.exec(grouped)).all()}
    return [(r, *stats.get(r.id or 0, (None, 0))) for r in found], total


async def versions(
    session: AsyncSession, model_id: int, *, limit: int, offset: int, digest: str | None
) -> tuple[list[ModelVersionRow], int]:
    query = (
        select(ModelVersionRow)
        .where(ModelVersionRow.model_id == model_id)
        .order_by(col(ModelVersionRow.version).desc())
    )
    if digest:
        query = query.where(ModelVersionRow.digest == digest)
    total = await count(session, query)
    return list((await session.exec(query.offset(offset).limit(limit))).all()), total


async def aliases_of(session: AsyncSession, model_id: int, number: int) -> list[str]:
    query = select(AliasRow.alias).where(AliasRow.model_id == model_id, AliasRow.version == number)
    return sorted((await session.exec(query)).all())


async def drop_alias(session: AsyncSession, model_id: int, name: str) -> None:
    statement = sa.delete(AliasRow).where(
        col(AliasRow.model_id) == model_id, col(AliasRow.alias) == name
    )
    await session.exec(statement)
