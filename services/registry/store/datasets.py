"""Datasets, their versions and file manifests."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry.store import count
from services.registry.tables import (
    DatasetFileRow,
    DatasetRow,
    DatasetVersionRow,
    StagedFilesRow,
)
from shared.db import starts_with
from shared.events import FileEntry
from shared.registry_api import ListQuery


async def dataset(session: AsyncSession, name: str) -> DatasetRow | None:
    return (await session.exec(select(DatasetRow).where(DatasetRow.name == name))).first()


async def named(session: AsyncSession, names: list[str]) -> list[DatasetRow]:
    if not names:
        return []
    query = select(DatasetRow).where(col(DatasetRow.name).in_(names))
    return list((await session.exec(query)).all())


async def latest_of(
    session: AsyncSession, dataset_ids: list[int]
) -> dict[int, DatasetVersionRow | None]:
    """Each dataset's newest version (None if it has none)."""
    found: dict[int, DatasetVersionRow | None] = dict.fromkeys(dataset_ids)
    if not dataset_ids:
        return found
    newest = (
        select(DatasetVersionRow.dataset_id, func.max(DatasetVersionRow.version).label("top"))
        .where(col(DatasetVersionRow.dataset_id).in_(dataset_ids))
        .group_by(col(DatasetVersionRow.dataset_id))
        .subquery()
    )
    query = select(DatasetVersionRow).join(
        newest,
        (col(DatasetVersionRow.dataset_id) == newest.c.dataset_id)
        & (col(DatasetVersionRow.version) == newest.c.top),
    )
    for row in (await session.exec(query)).all():
        found[row.dataset_id] = row
    return found


async def by_identities(
    session: AsyncSession, pairs: list[tuple[int, str]]
) -> dict[tuple[int, str], DatasetVersionRow]:
    if not pairs:
        return {}
    query = select(DatasetVersionRow).where(
        col(DatasetVersionRow.dataset_id).in_({d for d, _ in pairs}),
        col(DatasetVersionRow.identity).in_({i for _, i in pairs}),
    )
    return {(r.dataset_id, r.identity): r for r in (await session.exec(query)).all()}


async def add(session: AsyncSession, row: DatasetRow) -> DatasetRow:
    session.add(row)
    await session.flush()
    return row


async def by_identity(
    session: AsyncSession, dataset_id: int, identity: str
) -> DatasetVersionRow | None:
    query = select(DatasetVersionRow).where(
        DatasetVersionRow.dataset_id == dataset_id, DatasetVersionRow.identity == identity
    )
    return (await session.exec(query)).first()


async def latest(session: AsyncSession, dataset_id: int) -> DatasetVersionRow | None:
    query = (
        select(DatasetVersionRow)
        .where(DatasetVersionRow.dataset_id == dataset_id)
        .order_by(col(DatasetVersionRow.version).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def latest_pinned(
    session: AsyncSession, dataset_id: int, *, below: int | None = None
) -> DatasetVersionRow | None:
    """The newest version whose data is known (not pinning, not failed), below `below`."""
    query = select(DatasetVersionRow).where(
        DatasetVersionRow.dataset_id == dataset_id, DatasetVersionRow.state == "pinned"
    )
    if below is not None:
        query = query.where(DatasetVersionRow.version < below)
    found = await session.exec(query.order_by(col(DatasetVersionRow.version).desc()).limit(1))
    return found.first()


async def version_by_id(session: AsyncSession, version_id: int) -> DatasetVersionRow | None:
    return await session.get(DatasetVersionRow, version_id)


async def dataset_by_id(session: AsyncSession, dataset_id: int) -> DatasetRow:
    found = await session.get(DatasetRow, dataset_id)
    assert found is not None  # noqa: S101  (a version's dataset is never deleted)
    return found


async def pinning(session: AsyncSession, limit: int) -> list[tuple[int, str]]:
    """(id, uri) of the versions whose data is still to be hashed, oldest first."""
    query = (
        select(DatasetVersionRow.id, DatasetVersionRow.uri)
        .where(DatasetVersionRow.state == "pinning")
        .order_by(col(DatasetVersionRow.id))
        .limit(limit)
    )
    return [(id_, uri or "") for id_, uri in (await session.exec(query)).all() if id_]


async def version(session: AsyncSession, dataset_id: int, number: int) -> DatasetVersionRow | None:
    query = select(DatasetVersionRow).where(
        DatasetVersionRow.dataset_id == dataset_id, DatasetVersionRow.version == number
    )
    return (await session.exec(query)).first()


async def add_version(
    session: AsyncSession, row: DatasetVersionRow, files: Sequence[FileEntry]
) -> DatasetVersionRow:
    session.add(row)
    if files:  # they need the version's id; a version without files is inserted at commit
        await session.flush()
        rows = [{"version_id": row.id, **f.model_dump()} for f in files]
        await session.exec(sa.insert(DatasetFileRow), params=rows)
    return row


async def files(
    session: AsyncSession, version_id: int, *, offset: int = 0, limit: int | None = None
) -> list[FileEntry]:
    query = (
        select(DatasetFileRow)
        .where(DatasetFileRow.version_id == version_id)
        .order_by(col(DatasetFileRow.path))
        .offset(offset)
        .limit(limit)
    )
    return [
        FileEntry(path=r.path, size=r.size, sha256=r.sha256)
        for r in (await session.exec(query)).all()
    ]


async def page(
    session: AsyncSession, query: ListQuery
) -> tuple[list[tuple[DatasetRow, int | None, int]], int]:
    """Datasets by name with their latest version number and version count."""
    rows = select(DatasetRow).order_by(col(DatasetRow.name))
    if query.prefix:
        rows = rows.where(starts_with(col(DatasetRow.name), query.prefix))
    if query.type:
        rows = rows.where(DatasetRow.type == query.type)
    found = list((await session.exec(rows)).all())
    if query.tag:
        found = [r for r in found if query.tag in r.tags]  # tags are JSON: filtered here
    total = len(found)
    found = found[query.offset : query.offset + query.limit]
    stats = await version_stats(session, [r.id for r in found if r.id is not None])
    return [(r, *stats.get(r.id or 0, (None, 0))) for r in found], total


async def version_stats(session: AsyncSession, ids: list[int]) -> dict[int, tuple[int, int]]:
    """dataset id → (latest version, number of versions)."""
    if not ids:
        return {}
    query = (
        select(
            DatasetVersionRow.dataset_id,
            func.max(DatasetVersionRow.version),
            func.count(),
        )
        .where(col(DatasetVersionRow.dataset_id).in_(ids))
        .group_by(col(DatasetVersionRow.dataset_id))
    )
    return {row[0]: (row[1], row[2]) for row in (await session.exec(query)).all()}


async def versions(
    session: AsyncSession, dataset_id: int, *, limit: int, offset: int, digest: str | None
) -> tuple[list[DatasetVersionRow], int]:
    query = (
        select(DatasetVersionRow)
        .where(DatasetVersionRow.dataset_id == dataset_id)
        .order_by(col(DatasetVersionRow.version).desc())
    )
    if digest:
        query = query.where(DatasetVersionRow.digest == digest)
    total = await count(session, query)
    rows = (await session.exec(query.offset(offset).limit(limit))).all()
    return list(rows), total


async def stage(
    session: AsyncSession, upload_id: str, seq: int, chunk: Sequence[FileEntry], now: datetime
) -> None:
    existing = await session.get(StagedFilesRow, (upload_id, seq))
    if existing is None:  # a retried chunk is the same chunk
        files: list[dict[str, Any]] = [f.model_dump() for f in chunk]
        session.add(StagedFilesRow(upload_id=upload_id, seq=seq, files=files, created_at=now))


async def staged(session: AsyncSession, upload_id: str) -> list[FileEntry]:
    query = (
        select(StagedFilesRow)
        .where(StagedFilesRow.upload_id == upload_id)
        .order_by(col(StagedFilesRow.seq))
    )
    rows = (await session.exec(query)).all()
    return [FileEntry.model_validate(f) for row in rows for f in row.files]


async def drop_staged(session: AsyncSession, *, upload_id: str | None, before: datetime) -> None:
    """Forget the given upload, and any other that was abandoned before `before`."""
    condition = col(StagedFilesRow.created_at) < before
    if upload_id:
        condition = condition | (col(StagedFilesRow.upload_id) == upload_id)
    await session.exec(sa.delete(StagedFilesRow).where(condition))
