"""The upload side of the control plane: reserve, commit, abort; expiring stale uploads.

Handlers answer with a `Reply` (replies.py); reads and deletes live in reads.py.
"""

import asyncio
import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.artifact import domain, store
from services.artifact.backends.base import BlobStore
from services.artifact.domain import Refused, Upload
from services.artifact.previewer import Previewer
from services.artifact.replies import answering
from services.artifact.settings import ArtifactSettings
from shared.artifacts import (
    BlobInfo,
    CommitItem,
    CommitRequest,
    CommitResult,
    Reservation,
    ReserveRequest,
    UploadRef,
)
from shared.bus import Bus, now
from shared.events import ArtifactStored
from shared.outbox import Outbox
from shared.periodic import every
from shared.unit_of_work import Tx, UnitOfWork

log = logging.getLogger(__name__)
RECENT = 100_000  # uploads remembered in memory, so a data-plane PUT needs no query


class Uploads:
    """Reserve, receive (through the store), commit and abort uploads."""

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
        self.previewer = previewer
        self.recent: dict[str, Upload] = {}
        # Its lock makes the check for blobs stored before and the insert of the new ones
        # one step in this process; replicas may still race (the unique digest decides).
        self.uow = UnitOfWork(bus, sessions, outbox, Tx)

    async def upload(self, upload_id: str) -> Upload | None:
        found = self.recent.get(upload_id)
        if found is None:
            async with self.sessions() as session:
                found = await store.upload(session, upload_id)
        return found if found and not domain.expired(found, now()) else None

    def _remember(self, uploads: list[Upload]) -> None:
        for upload in uploads:
            self.recent[upload.id] = upload
        while len(self.recent) > RECENT:  # oldest first: dicts keep insertion order
            self.recent.pop(next(iter(self.recent)))

    @answering
    async def reserve(self, request: ReserveRequest) -> list[Reservation]:
        """Per blob: stored already, or a place to send its bytes."""
        async with self.sessions() as session:
            known = await store.blobs(session, (b.sha256 for b in request.blobs if b.sha256))
        answers, uploads = [], []
        for spec in request.blobs:
            if blob := known.get(spec.sha256 or ""):
                answers.append(Reservation(sha256=blob.sha256, exists=True, blob=blob))
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
            await store.add_uploads(session, uploads)
            await session.commit()
        self._remember(uploads)
        return answers

    @answering
    async def commit(self, request: CommitRequest) -> list[CommitResult]:
        """Verify each upload's bytes against its digest and make the good ones blobs."""
        async with self.sessions() as session:
            known = await store.uploads(session, (item.upload_id for item in request.commits))
        live = {i: u for i, u in known.items() if not domain.expired(u, now())}

        # All at once: the file backend promotes them as one group; S3 bounds its own calls.
        finished = await asyncio.gather(
            *(self._finish(item, live.get(item.upload_id)) for item in request.commits)
        )
        done = [(result.upload_id, blob) for result, blob in finished if blob is not None]
        stored = await self._record(done)
        for result, blob in finished:
            if blob is None:
                continue
            if blob.sha256 in stored:
                result.blob = stored[blob.sha256]
            else:
                problem = f"upload {result.upload_id} was aborted or expired while it was committed"
                result.ok, result.status, result.error = False, 409, problem
        return [result for result, _ in finished]

    async def _finish(
        self, item: CommitItem, upload: Upload | None
    ) -> tuple[CommitResult, BlobInfo | None]:
        result = CommitResult(upload_id=item.upload_id)
        try:
            if upload is None:
                return await self._committed_before(item), None
            digest = domain.declared_digest(upload, item.sha256)
            location = await self.blobs.finish(upload, digest, item.parts)
        except Refused as refusal:
            if refusal.status == 400 and upload:  # wrong bytes: the upload goes with them
                try:
                    await self._end(upload)
                except Refused as err:  # the store is down: the expiry sweep drops them later
                    log.warning("upload %s stays until it expires: %s", upload.id, err)
            result.ok, result.status, result.error = False, refusal.status, refusal.message
            return result, None
        kind = self.previewer.kind(upload.name, upload.media_type, upload.size)
        blob = BlobInfo(
            sha256=digest,
            size=upload.size,
            name=upload.name,
            media_type=upload.media_type,
            preview_kind=kind,
            preview_status="pending" if kind else "none",
            created_at=now(),
            stored=True,
            location=location,
        )
        return result, blob

    async def _committed_before(self, item: CommitItem) -> CommitResult:
        """A commit retried after its reply was lost finds the blob it made."""
        if item.sha256:
            async with self.sessions() as session:
                blob = await store.blob(session, item.sha256)
            if blob is not None:
                return CommitResult(upload_id=item.upload_id, blob=blob)
        raise Refused(404, f"no upload {item.upload_id}: expired, aborted or never reserved")

    async def _drop_upload(self, upload_id: str) -> None:
        self.recent.pop(upload_id, None)
        async with self.sessions() as session:
            await store.drop_uploads(session, [upload_id])
            await session.commit()

    async def _end(self, upload: Upload) -> bool:
        """Abort an upload unless a commit ended it first: its row is marked expired (no
        commit can record its blob then), its bytes dropped, then its row; a store outage
        on the way leaves the row for the expiry sweep. False if it was no longer live."""
        self.recent.pop(upload.id, None)
        async with self.sessions() as session:
            live = await store.expire_upload(session, upload.id, now())
            await session.commit()
        if live:
            await self.blobs.abort(upload)
            await self._drop_upload(upload.id)
        return live

    async def _record(self, done: list[tuple[str, BlobInfo]]) -> dict[str, BlobInfo]:
        """New blob rows, their artifact.stored events and the end of their uploads in one
        transaction; the events are published after it commits. Returns every blob by
        digest: the new ones `stored`, those another upload stored first not; a blob of an
        upload aborted meanwhile is left out, unless another upload stored the same bytes."""
        if not done:
            return {}
        for upload_id, _ in done:  # they end here; a look-up meanwhile asks the database
            self.recent.pop(upload_id, None)
        for attempt in (1, 2):
            try:
                existing, fresh = await self._insert(done)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                # Another replica stored the same bytes first: they are "existing" now.
        for blob in fresh.values():
            self.previewer.submit(blob)
        kept = {blob.location for blob in (existing | fresh).values()}
        duplicates = {b.location for _, b in done if b.location and b.location not in kept}
        await asyncio.gather(*(self._discard(location) for location in duplicates))
        return existing | fresh

    async def _discard(self, location: str) -> None:
        """Bytes stored first by another upload, or of an upload aborted meanwhile."""
        try:
            await self.blobs.discard(location)
        except Refused as err:  # the blobs are recorded: a leftover copy harms nothing
            log.warning("bytes left at %s: %s", location, err)

    async def _insert(
        self, done: list[tuple[str, BlobInfo]]
    ) -> tuple[dict[str, BlobInfo], dict[str, BlobInfo]]:
        async with self.uow.writing() as tx:
            uploads = (upload_id for upload_id, _ in done)
            ended = await store.end_uploads(tx.session, uploads, now())
            existing = await store.blobs(tx.session, (blob.sha256 for _, blob in done))
            fresh: dict[str, BlobInfo] = {}
            for upload_id, blob in done:  # the same bytes twice in one commit: the first is kept
                if blob.sha256 not in existing and upload_id in ended:
                    fresh.setdefault(blob.sha256, blob)
            await store.add_blobs(tx.session, fresh.values())
            for blob in fresh.values():
                tx.emit(_stored(blob))
        return existing, fresh

    @answering
    async def abort(self, ref: UploadRef) -> dict[str, str]:
        upload = await self.upload(ref.upload_id)
        if upload is None or not await self._end(upload):
            raise Refused(404, f"no upload {ref.upload_id}: committed, aborted or expired")
        return {"upload_id": upload.id, "state": "aborted"}

    async def expire_forever(self, interval_s: float = 60.0) -> None:
        """Unfinished uploads past their time lose their staged bytes and their row."""
        await every(interval_s, self.expire_once, "expiring uploads")

    async def expire_once(self) -> int:
        async with self.sessions() as session:
            expired = await store.expired_uploads(session, now())
        for upload in expired:
            await self.blobs.abort(upload)
            await self._drop_upload(upload.id)
        return len(expired)


def _stored(blob: BlobInfo) -> ArtifactStored:
    return ArtifactStored(
        sha256=blob.sha256,
        size=blob.size,
        name=blob.name,
        media_type=blob.media_type,
        preview_kind=blob.preview_kind,
    )
