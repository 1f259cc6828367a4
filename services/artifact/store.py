"""Blobs, uploads and named keys in the artifact database."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Result, bindparam, delete, insert, update
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.artifact.domain import Upload
from services.artifact.tables import BlobRow, NameRow, UploadRow
from shared.artifacts import BlobInfo, NameInfo
from shared.db import starts_with

BLOB = BlobRow.__table__  # type: ignore[attr-defined]
UPLOAD = UploadRow.__table__  # type: ignore[attr-defined]
# Blobs and uploads come and go by the thousand in one dataset push: Core statements on the
# tables, with plain values in and out, cost a fraction of building ORM objects for them.


async def _run(session: AsyncSession, statement: Executable, rows: Any = None) -> Result[Any]:
    """A Core statement in the session's transaction (rows: many parameter sets at once)."""
    return await (await session.connection()).execute(statement, rows)


def _blob(row: Any) -> BlobInfo:
    return BlobInfo.model_validate(row._mapping)


async def blobs(session: AsyncSession, digests: Iterable[str]) -> dict[str, BlobInfo]:
    wanted = sorted(set(digests))
    found: dict[str, BlobInfo] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        query = select_rows(BLOB).where(BLOB.c.sha256.in_(wanted[start : start + 500]))
        found.update((row.sha256, _blob(row)) for row in await _run(session, query))
    return found


async def blob(session: AsyncSession, sha256: str) -> BlobInfo | None:
    row = (await _run(session, select_rows(BLOB).where(BLOB.c.sha256 == sha256))).first()
    return _blob(row) if row else None


async def add_blobs(session: AsyncSession, new: Iterable[BlobInfo]) -> None:
    rows = [blob.model_dump(exclude={"stored"}) | {"location": blob.location} for blob in new]
    if rows:
        await _run(session, insert(BLOB), rows)


async def listing(
    session: AsyncSession, *, limit: int, after: str | None, name_prefix: str | None
) -> list[BlobInfo]:
    query = select_rows(BLOB).order_by(BLOB.c.sha256).limit(limit)
    if after:
        query = query.where(BLOB.c.sha256 > after)
    if name_prefix:
        query = query.where(starts_with(BLOB.c.name, name_prefix))
    return [_blob(row) for row in await _run(session, query)]


async def pending_previews(session: AsyncSession) -> list[BlobInfo]:
    query = select_rows(BLOB).where(BLOB.c.preview_status == "pending")
    return [_blob(row) for row in await _run(session, query)]


async def set_previews(session: AsyncSession, done: Iterable[tuple[str, str | None, str]]) -> None:
    """(sha256, kind, status) of previews computed, in one statement."""
    rows = [{"digest": sha256, "kind": kind, "status": status} for sha256, kind, status in done]
    if rows:
        statement = (
            update(BLOB)
            .where(BLOB.c.sha256 == bindparam("digest"))
            .values(preview_kind=bindparam("kind"), preview_status=bindparam("status"))
        )
        await _run(session, statement, rows)


async def drop_blob(session: AsyncSession, sha256: str) -> None:
    await _run(session, delete(BLOB).where(BLOB.c.sha256 == sha256))


async def upload(session: AsyncSession, upload_id: str) -> Upload | None:
    return (await uploads(session, [upload_id])).get(upload_id)


async def uploads(session: AsyncSession, upload_ids: Iterable[str]) -> dict[str, Upload]:
    query = select_rows(UPLOAD).where(UPLOAD.c.id.in_(list(upload_ids)))
    return {row.id: Upload(**row._mapping) for row in await _run(session, query)}


async def add_uploads(session: AsyncSession, new: Iterable[Upload]) -> None:
    rows = [upload.__dict__ for upload in new]
    if rows:
        await _run(session, insert(UPLOAD), rows)


async def drop_uploads(session: AsyncSession, upload_ids: Iterable[str]) -> None:
    ids = list(upload_ids)
    if ids:
        await _run(session, delete(UPLOAD).where(UPLOAD.c.id.in_(ids)))


async def end_uploads(session: AsyncSession, upload_ids: Iterable[str], now: datetime) -> set[str]:
    """Drop the rows of these uploads that are still live; returns their ids. A commit
    records a blob only for an upload it ended so: an abort may have taken it meanwhile."""
    ids = list(upload_ids)
    if not ids:
        return set()
    statement = (
        delete(UPLOAD).where(UPLOAD.c.id.in_(ids), UPLOAD.c.expires_at > now).returning(UPLOAD.c.id)
    )
    return set((await _run(session, statement)).scalars())


async def expire_upload(session: AsyncSession, upload_id: str, now: datetime) -> bool:
    """Mark a live upload expired, so no commit can end it any more; False if it was not
    live (committed, aborted or expired already)."""
    statement = (
        update(UPLOAD)
        .where(UPLOAD.c.id == upload_id, UPLOAD.c.expires_at > now)
        .values(expires_at=now)
        .returning(UPLOAD.c.id)
    )
    return (await _run(session, statement)).first() is not None


async def expired_uploads(session: AsyncSession, now: datetime, limit: int = 100) -> list[Upload]:
    query = select_rows(UPLOAD).where(UPLOAD.c.expires_at <= now).limit(limit)
    return [Upload(**row._mapping) for row in await _run(session, query)]


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
        .where(starts_with(col(NameRow.key), prefix))
        .order_by(col(NameRow.key))
        .limit(limit)
    )
    return [
        NameInfo(key=n.key, sha256=n.sha256, size=b.size if b else 0, updated_at=n.updated_at)
        for n, b in (await session.exec(query)).all()
    ]
