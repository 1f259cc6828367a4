"""The control plane: reserve, commit, abort; stat, list, locate, delete; previews; names.

Every answer is a `Reply`; a `Refused` becomes an error reply with its status and text.
"""

import asyncio
import functools
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.artifact import domain, store
from services.artifact.backends.base import BlobStore
from services.artifact.domain import Refused, Upload
from services.artifact.previewer import Previewer
from services.artifact.settings import ArtifactSettings
from services.artifact.tables import BlobRow
from shared.artifacts import (
    BlobList,
    BlobQuery,
    CommitItem,
    CommitRequest,
    CommitResult,
    DigestsQuery,
    Location,
    NameBind,
    NameList,
    NameQuery,
    Presence,
    Preview,
    Reservation,
    ReserveRequest,
    UploadRef,
    preview_key,
)
from shared.bus import Bus, now
from shared.events import ArtifactStored
from shared.outbox import Outbox, stage
from shared.queries import Reply

log = logging.getLogger(__name__)
COMMIT_CONCURRENCY = 8
PREVIEW_WAIT_S = 3.0


def answering(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Reply]]:
    """Wrap a handler: its result (or its refusal) becomes a Reply."""

    @functools.wraps(handler)
    async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Reply:
        try:
            result = await handler(self, *args, **kwargs)
        except Refused as refusal:
            return Reply(ok=False, status=refusal.status, error=refusal.message)
        except Exception as err:
            # The asker gets an answer now rather than its timeout; the log has the trace.
            log.exception("%s failed", handler.__name__)
            return Reply(ok=False, status=500, error=f"{type(err).__name__}: {err}")
        return Reply(result=_json(result))

    # FastStream reads the signature to decode the body and to encode the reply.
    wrapped.__annotations__ = {**handler.__annotations__, "return": Reply}
    wrapped.__signature__ = inspect.signature(handler).replace(  # type: ignore[attr-defined]
        return_annotation=Reply
    )
    return wrapped


def _json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


class Artifacts:
    def __init__(
        self,
        settings: ArtifactSettings,
        blobs: BlobStore,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        bus: Bus,
        previewer: Previewer,
    ) -> None:
        self.settings = settings
        self.blobs = blobs
        self.sessions = sessions
        self.outbox = outbox
        self.bus = bus
        self.previewer = previewer

    async def upload(self, upload_id: str) -> Upload | None:
        async with self.sessions() as session:
            found = await store.upload(session, upload_id)
        return found if found and not domain.expired(found, now()) else None

    @answering
    async def reserve(self, request: ReserveRequest) -> list[Reservation]:
        """Per blob: stored already, or a place to send its bytes."""
        async with self.sessions() as session:
            known = await store.blobs(session, (b.sha256 for b in request.blobs if b.sha256))
        answers, uploads = [], []
        for spec in request.blobs:
            if spec.sha256 in known:
                row = known[spec.sha256]
                answers.append(Reservation(sha256=row.sha256, exists=True, blob=store.info(row)))
                continue
            upload = domain.new_upload(
                spec,
                id=uuid.uuid4().hex,
                now=now(),
                ttl_s=self.settings.upload_ttl_s,
                limit=self.settings.max_blob_bytes,
                part_bytes=domain.part_size(spec.size, self.settings.part_bytes),
            )
            upload, target = await self.blobs.begin(upload)
            uploads.append(upload)
            answers.append(Reservation(sha256=spec.sha256, upload=target))
        async with self.sessions() as session:
            for upload in uploads:
                store.add_upload(session, upload)
            await session.commit()
        return answers

    @answering
    async def commit(self, request: CommitRequest) -> list[CommitResult]:
        """Verify each upload's bytes against its digest and make the good ones blobs."""
        limit = asyncio.Semaphore(COMMIT_CONCURRENCY)

        async def one(item: CommitItem) -> tuple[CommitResult, BlobRow | None]:
            async with limit:
                return await self._finish(item)

        finished = await asyncio.gather(*(one(item) for item in request.commits))
        done = [(result.upload_id, row) for result, row in finished if row is not None]
        stored, fresh = await self._record(done)
        for result, row in finished:
            if row is not None:
                result.blob = store.info(stored[row.sha256], stored=row.sha256 in fresh)
        return [result for result, _ in finished]

    async def _finish(self, item: CommitItem) -> tuple[CommitResult, BlobRow | None]:
        result = CommitResult(upload_id=item.upload_id)
        try:
            upload = await self.upload(item.upload_id)
            if upload is None:
                return await self._committed_before(item), None
            digest = domain.declared_digest(upload, item.sha256)
            await self.blobs.finish(upload, digest, item.parts)
        except Refused as refusal:
            if refusal.status == 400:  # the bytes were wrong: the upload is gone with them
                await self._drop_upload(item.upload_id)
            result.ok, result.status, result.error = False, refusal.status, refusal.message
            return result, None
        kind = self.previewer.kind(upload.name, upload.media_type, upload.size)
        row = BlobRow(
            sha256=digest,
            size=upload.size,
            name=upload.name,
            media_type=upload.media_type,
            preview_kind=kind,
            preview_status="pending" if kind else "none",
            created_at=now(),
        )
        return result, row

    async def _committed_before(self, item: CommitItem) -> CommitResult:
        """A commit retried after its reply was lost finds the blob it made."""
        if item.sha256:
            async with self.sessions() as session:
                row = await store.blob(session, item.sha256)
            if row is not None:
                return CommitResult(upload_id=item.upload_id, blob=store.info(row))
        raise Refused(404, f"no upload {item.upload_id}: expired, aborted or never reserved")

    async def _drop_upload(self, upload_id: str) -> None:
        async with self.sessions() as session:
            await store.drop_uploads(session, [upload_id])
            await session.commit()

    async def _record(self, done: list[tuple[str, BlobRow]]) -> tuple[dict[str, BlobRow], set[str]]:
        """New blob rows, their artifact.stored events and the end of their uploads in one
        transaction; the events are published after it commits."""
        if not done:
            return {}, set()
        async with self.sessions() as session:
            existing = await store.blobs(session, (row.sha256 for _, row in done))
            fresh = {row.sha256: row for _, row in done if row.sha256 not in existing}
            session.add_all(fresh.values())
            ids = stage(session, [self.bus.envelope(_stored(r)) for r in fresh.values()], now=now())
            await store.drop_uploads(session, (upload_id for upload_id, _ in done))
            await session.commit()
        await self.outbox.publish(ids)
        for row in fresh.values():
            self.previewer.submit(row)
        return existing | fresh, set(fresh)

    @answering
    async def abort(self, ref: UploadRef) -> dict[str, str]:
        upload = await self.upload(ref.upload_id)
        if upload is None:
            raise Refused(404, f"no upload {ref.upload_id}")
        await self.blobs.abort(upload)
        await self._drop_upload(upload.id)
        return {"upload_id": upload.id, "state": "aborted"}

    @answering
    async def exists(self, query: DigestsQuery) -> Presence:
        """Which of these digests are stored: one call for a whole dataset."""
        async with self.sessions() as session:
            known = await store.blobs(session, query.sha256)
        wanted = list(dict.fromkeys(query.sha256))
        return Presence(
            present=[d for d in wanted if d in known], missing=[d for d in wanted if d not in known]
        )

    async def _blob(self, sha256: str) -> BlobRow:
        async with self.sessions() as session:
            row = await store.blob(session, sha256)
        if row is None:
            raise Refused(404, f"no blob {sha256}")
        return row

    @answering
    async def stat(self, query: BlobQuery) -> Any:
        return store.info(await self._blob(query.sha256))

    @answering
    async def listing(self, query: BlobList) -> Any:
        async with self.sessions() as session:
            rows = await store.listing(
                session, limit=query.limit, after=query.after, name_prefix=query.name_prefix
            )
        return [store.info(row) for row in rows]

    @answering
    async def locate(self, query: BlobQuery) -> Location:
        row = await self._blob(query.sha256)
        url = await self.blobs.locate(row.sha256, row.name)
        return Location(sha256=row.sha256, size=row.size, url=url)

    @answering
    async def delete(self, query: BlobQuery) -> dict[str, str]:
        row = await self._blob(query.sha256)
        async with self.sessions() as session:
            names = await store.names_of(session, row.sha256)
            if names:
                raise Refused(409, f"blob {row.sha256} is still named by {', '.join(names)}")
            await store.drop_blob(session, row.sha256)
            await session.commit()
        await self.blobs.delete(row.sha256)
        return {"sha256": row.sha256, "state": "deleted"}

    @answering
    async def preview(self, query: BlobQuery) -> Preview:
        row = await self._blob(query.sha256)
        if row.preview_status == "pending":
            await self.previewer.wait(row.sha256, PREVIEW_WAIT_S)
            row = await self._blob(query.sha256)
        document = None
        if row.preview_status in ("ready", "failed"):
            raw = await self.blobs.read_small(preview_key(row.sha256))
            document = json.loads(raw) if raw else None
        return Preview(
            sha256=row.sha256,
            kind=row.preview_kind,
            status=row.preview_status,  # type: ignore[arg-type]
            preview=document,
        )

    @answering
    async def bind(self, request: NameBind) -> Any:
        """Point a named key (e.g. runs/<id>/logs.jsonl) at a stored blob."""
        await self._blob(request.sha256)
        async with self.sessions() as session:
            await store.bind_name(session, request.key, request.sha256, now())
            await session.commit()
            return await store.name(session, request.key)

    @answering
    async def name(self, query: NameQuery) -> Any:
        async with self.sessions() as session:
            found = await store.name(session, query.key)
        if found is None:
            raise Refused(404, f"no blob named {query.key!r}")
        return found

    @answering
    async def names(self, query: NameList) -> Any:
        async with self.sessions() as session:
            return await store.names(session, query.prefix, query.limit)

    async def expire_forever(self, interval_s: float = 60.0) -> None:
        """Unfinished uploads past their time lose their staged bytes and their row."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.expire_once()
            except Exception:
                # The sweep must outlive a store or database outage; it tries again later.
                log.exception("expiring uploads failed; retrying in %.0f s", interval_s)

    async def expire_once(self) -> int:
        async with self.sessions() as session:
            expired = await store.expired_uploads(session, now())
        for upload in expired:
            await self.blobs.abort(upload)
            await self._drop_upload(upload.id)
        return len(expired)


def _stored(row: BlobRow) -> ArtifactStored:
    return ArtifactStored(
        sha256=row.sha256,
        size=row.size,
        name=row.name,
        media_type=row.media_type,
        preview_kind=row.preview_kind,
    )
