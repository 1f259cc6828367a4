"""Previews computed after commit, in the background, stored as JSON beside the blob."""

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.artifact import store
from services.artifact.backends.base import BlobStore
from services.artifact.domain import Refused
from services.artifact.previews.kinds import kind_of
from services.artifact.previews.runner import PreviewRunner
from services.artifact.tables import BlobRow
from shared.artifacts import preview_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    sha256: str
    kind: str
    name: str | None


class Previewer:
    def __init__(
        self,
        blobs: BlobStore,
        sessions: async_sessionmaker[AsyncSession],
        runner: PreviewRunner,
        *,
        max_bytes: int,
    ) -> None:
        self.blobs = blobs
        self.sessions = sessions
        self.runner = runner
        self.max_bytes = max_bytes
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.waiting: dict[str, asyncio.Event] = {}

    def kind(self, name: str | None, media_type: str | None, size: int) -> str | None:
        """The preview a new blob will get; None for plain bytes and oversized blobs."""
        return kind_of(name, media_type) if size <= self.max_bytes else None

    def submit(self, row: BlobRow) -> None:
        if row.preview_kind and row.sha256 not in self.waiting:
            self.waiting[row.sha256] = asyncio.Event()
            self.queue.put_nowait(Job(row.sha256, row.preview_kind, row.name))

    async def resume(self) -> None:
        """Previews a stop interrupted are computed again."""
        async with self.sessions() as session:
            for row in await store.pending_previews(session):
                self.submit(row)

    async def wait(self, sha256: str, timeout: float) -> None:
        done = self.waiting.get(sha256)
        if done is not None:
            try:
                await asyncio.wait_for(done.wait(), timeout)
            except TimeoutError:
                return

    async def run_forever(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                await self.run(job)
            except Refused as err:
                # The store is down: the preview stays pending and is retried at next start.
                log.warning("preview of %s postponed: %s", job.sha256, err)
            finally:
                done = self.waiting.pop(job.sha256, None)
                if done:
                    done.set()

    async def run(self, job: Job) -> None:
        async with self.blobs.local_file(job.sha256) as path:
            preview: dict[str, Any] = await self.runner.compute(path, job.kind, job.name)
        status = "failed" if "error" in preview else "ready"
        kind = str(preview.get("kind") or job.kind)
        document = json.dumps({"sha256": job.sha256, **preview}).encode()
        await self.blobs.write_small(preview_key(job.sha256), document)
        async with self.sessions() as session:
            await store.set_preview(session, job.sha256, kind=kind, status=status)
            await session.commit()
