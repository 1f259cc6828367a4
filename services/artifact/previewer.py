"""Previews computed after commit, in the background, stored as JSON beside the blob."""

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.artifact import store
from services.artifact.backends.base import BlobStore
from services.artifact.domain import Refused
from services.artifact.previews.kinds import kind_of
from services.artifact.previews.runner import PreviewRunner
from shared.artifacts import BlobInfo

log = logging.getLogger(__name__)
BATCH = 100  # previews of small blobs computed and recorded together
BATCH_BYTES = 16 * 1024**2  # S3 blobs are downloaded for the batch's length
QUIET_S = 1.0  # previews wait for this long a pause in new blobs…
HOLD_MAX_S = 5.0  # …but never longer than this


@dataclass(frozen=True)
class Job:
    blob: BlobInfo
    queued_at: float  # time.monotonic()

    @property
    def kind(self) -> str:
        return self.blob.preview_kind or ""  # only blobs with a preview kind are queued


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
        self.submitted_at = -HOLD_MAX_S  # time.monotonic() of the last job
        self.askers = 0  # preview requests waiting…
        self.asked = asyncio.Event()  # …set while there are any: no pause is kept for them

    def kind(self, name: str | None, media_type: str | None, size: int) -> str | None:
        """The preview a new blob will get; None for plain bytes and oversized blobs."""
        return kind_of(name, media_type) if size <= self.max_bytes else None

    def submit(self, blob: BlobInfo) -> None:
        if blob.preview_kind and blob.sha256 not in self.waiting:
            self.waiting[blob.sha256] = asyncio.Event()
            self.submitted_at = time.monotonic()
            job = Job(blob, self.submitted_at)
            self.queue.put_nowait(job)

    async def resume(self) -> None:
        """Previews a stop interrupted are computed again."""
        async with self.sessions() as session:
            for blob in await store.pending_previews(session):
                self.submit(blob)

    async def wait(self, sha256: str, timeout: float) -> None:
        done = self.waiting.get(sha256)
        if done is not None:
            self.askers += 1
            self.asked.set()
            try:
                await asyncio.wait_for(done.wait(), timeout)
            except TimeoutError:
                return
            finally:
                self.askers -= 1
                if not self.askers:
                    self.asked.clear()

    async def run_forever(self) -> None:
        """Previews in the order blobs were stored; what queued up meanwhile is recorded
        in one statement (a dataset of small files queues thousands)."""
        while True:
            jobs = [await self.queue.get()]
            await self._pause(jobs[0])
            weight = jobs[0].blob.size
            while len(jobs) < BATCH and not self.queue.empty() and weight < BATCH_BYTES:
                jobs.append(self.queue.get_nowait())
                weight += jobs[-1].blob.size
            try:
                await self.run(jobs)
            finally:
                for job in jobs:
                    done = self.waiting.pop(job.blob.sha256, None)
                    if done:
                        done.set()

    async def _pause(self, oldest: Job) -> None:
        """While new blobs keep coming (a push of many files), wait for a pause in them,
        unless a preview is asked for; no job waits for one longer than HOLD_MAX_S. Previews
        are background work: the same CPU serves the uploads, and a push of 10,000 small
        files ends sooner without their previews competing."""
        while not self.asked.is_set():
            quiet_left = QUIET_S - (time.monotonic() - self.submitted_at)
            hold_left = HOLD_MAX_S - (time.monotonic() - oldest.queued_at)
            if min(quiet_left, hold_left) <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.asked.wait(), min(quiet_left, hold_left))

    async def run(self, jobs: list[Job]) -> None:
        finished = []
        try:
            finished = await self._compute(jobs)
        except Refused as err:
            # The store is down: they stay pending and are retried at next start.
            log.warning("%d previews postponed: %s", len(jobs), err)
        async with self.sessions() as session:
            await store.set_previews(session, finished)
            await session.commit()

    async def _compute(self, jobs: list[Job]) -> list[tuple[str, str, str]]:
        """Previews stored beside their blobs; (sha256, kind, status) of each to record."""
        async with contextlib.AsyncExitStack() as files:
            paths = [await files.enter_async_context(self.blobs.local_file(j.blob)) for j in jobs]
            previews = await self.runner.compute_many(
                [(path, job.kind, job.blob.name) for path, job in zip(paths, jobs, strict=True)]
            )
        finished, documents = [], {}
        for job, preview in zip(jobs, previews, strict=True):
            status = "failed" if "error" in preview else "ready"
            kind = str(preview.get("kind") or job.kind)
            sha256 = job.blob.sha256
            documents[sha256] = json.dumps({"sha256": sha256, **preview}).encode()
            finished.append((sha256, kind, status))
        await self.blobs.write_previews(documents)
        return finished
