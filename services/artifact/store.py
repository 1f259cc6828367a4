"""Blobs, uploads and named keys in the artifact database."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.artifact.domain import Upload
from services.artifact.tables import BlobRow, NameRow, UploadRow
from shared.artifacts import BlobInfo, NameInfo


def info(row: BlobRow, *, stored: bool = False) -> BlobInfo:
    return BlobInfo.model_validate(row.model_dump() | {"stored": stored})


async def blobs(session: AsyncSession, digests: Iterable[str]) -> dict[str, BlobRow]:
    wanted = sorted(set(digests))
    found: dict[str, BlobRow] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        query = select(BlobRow).where(col(BlobRow.sha256).in_(wanted[start : start + 500]))
        found.update((row.sha256, row) for row in (await session.exec(query)).all())
    return found


async def blob(session: AsyncSession, sha256: str) -> BlobRow | None:
    return await session.get(BlobRow, sha256)


async def listing(
    session: AsyncSession, *, limit: int, after: str | None, name_prefix: str | None
) -> list[BlobRow]:
    query = select(BlobRow).order_by(col(BlobRow.sha256)).limit(limit)
    if after:
        query = query.where(col(BlobRow.sha256) > after)
    if name_prefix:
        query = query.where(col(BlobRow.name).startswith(name_prefix, autoescape=True))
    return list((await session.exec(query)).all())


async def pending_previews(session: AsyncSession) -> list[BlobRow]:
    query = select(BlobRow).where(BlobRow.preview_status == "pending")
    return list((await session.exec(query)).all())


async def set_preview(session: AsyncSession, sha256: str, *, kind: str | None, status: str) -> None:
    statement = (
        update(BlobRow)
        .where(col(BlobRow.sha256) == sha256)
        .values(preview_kind=kind, preview_status=status)
    )
    await session.exec(statement)  # type: ignore[call-overload]


async def drop_blob(session: AsyncSession, sha256: str) -> None:
    await session.exec(delete(BlobRow).where(col(BlobRow.sha256) == sha256))  # type: ignore[call-overload]


def to_domain(row: UploadRow) -> Upload:
    return Upload(**row.model_dump())


async def upload(session: AsyncSession, upload_id: str) -> Upload | None:
    row = await session.get(UploadRow, upload_id)
    return to_domain(row) if row else None


async def uploads(session: AsyncSession, upload_ids: Iterable[str]) -> dict[str, Upload]:
    query = select(UploadRow).where(col(UploadRow.id).in_(list(upload_ids)))
    return {row.id: to_domain(row) for row in (await session.exec(query)).all()}


def add_upload(session: AsyncSession, upload: Upload) -> None:
    session.add(UploadRow(**upload.__dict__))


async def drop_uploads(session: AsyncSession, upload_ids: Iterable[str]) -> None:
    ids = list(upload_ids)
    if ids:
        statement = delete(UploadRow).where(col(UploadRow.id).in_(ids))
        await session.exec(statement)  # type: ignore[call-overload]


async def expired_uploads(session: AsyncSession, now: datetime, limit: int = 100) -> list[Upload]:
    query = select(UploadRow).where(col(UploadRow.expires_at) <= now).limit(limit)
    return [to_domain(row) for row in (await session.exec(query)).all()]


async def bind_name(session: AsyncSession, key: str, sha256: str, now: datetime) -> NameRow:
    row = await session.get(NameRow, key)
    if row is None:
        row = NameRow(key=key, sha256=sha256, updated_at=now)
    else:
        row.sha256, row.updated_at = sha256, now
    session.add(row)
    return row


async def names_of(session: AsyncSession, sha256: str, limit: int = 10) -> list[str]:
    query = select(NameRow.key).where(NameRow.sha256 == sha256).limit(limit)
    return list((await session.exec(query)).all())


async def name(session: AsyncSession, key: str) -> NameInfo | None:
    row = await session.get(NameRow, key)
    if row is None:
        return None
    target = await session.get(BlobRow, row.sha256)
    return NameInfo(
        key=row.key, sha256=row.sha256, size=target.size if target else 0, updated_at=row.updated_at
    )


async def names(session: AsyncSession, prefix: str, limit: int) -> list[NameInfo]:
    query = (
        select(NameRow, BlobRow)
        .join(BlobRow, col(BlobRow.sha256) == col(NameRow.sha256), isouter=True)
        .where(col(NameRow.key).startswith(prefix, autoescape=True))
        .order_by(col(NameRow.key))
        .limit(limit)
    )
    return [
        NameInfo(key=n.key, sha256=n.sha256, size=b.size if b else 0, updated_at=n.updated_at)
        for n, b in (await session.exec(query)).all()
    ]
