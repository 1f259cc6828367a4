"""Blobs in a local directory; bytes arrive through the data plane (dataplane.py).

Staging: `staging/<id>.part` while bytes arrive, renamed to `staging/<id>.<sha256>` once
all arrived (the name is the digest the service computed), then renamed again to
`blobs/sha256/ab/<sha256>` on commit. Renames are atomic: a reader sees all or nothing.
"""

import asyncio
import contextlib
import ctypes
import hashlib
import os
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from services.artifact import signing
from services.artifact.backends.disk import disk_errors
from services.artifact.domain import Refused, Upload, check_received
from shared.artifacts import (
    BlobInfo,
    PartDone,
    UploadTarget,
    blob_key,
    check_digest,
    check_key,
    preview_key,
    staging_key,
)

T = TypeVar("T")
WRITE_BUFFER = 1024**2
IN_FLIGHT = 4  # MiB of an upload received and waiting to be hashed and written
SYNC_THREADS = 16  # staging renames, unlinks and syncs wait on the journal of a busy disk


class FileStore:
    def __init__(self, root: Path, *, secret: str = "", expiry_s: int = 3600) -> None:
        self.root = root.resolve()
        self.secret = (secret or secrets.token_hex(32)).encode()
        self.expiry_s = expiry_s
        self.base_url = ""  # set by the data plane once it listens
        self._receiving: set[str] = set()
        self._received: dict[str, str] = {}  # upload id → digest staged, until committed
        self._syncing = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="fsync")
        self._inside: set[Path] = set()  # folders already seen to resolve inside the root
        self._promoting: list[tuple[Upload, str, asyncio.Future[None]]] = []
        self._promoter: asyncio.Task[None] | None = None

    def path(self, key: str) -> Path:
        """The file of a key; refuses keys that would leave the root (by '..' or a symlink)."""
        path = self.root / check_key(key)
        folder = path.parent
        if folder not in self._inside:
            if not folder.resolve().is_relative_to(self.root):
                raise Refused(400, f"key leaves the store's root: {key!r}")
            if folder.exists():
                self._inside.add(folder)
        if path.is_symlink():
            raise Refused(400, f"key leaves the store's root: {key!r}")
        return path

    def _own(self, key: str) -> Path:
        """The file of a key the store makes itself from a checked digest or upload id
        (blobs, previews, staging): it stays in the root by construction, and the checks
        of `path` would cost more than the write of a small file."""
        return self.root / key

    async def start(self) -> None:
        for folder in ("blobs", "previews", "staging"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        self._syncing.shutdown(wait=True)

    async def _blocking(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._syncing, call, *args)

    def _signed(self, method: str, path: str) -> str:
        expires = int(time.time()) + self.expiry_s
        return signing.signed_url(self.base_url, self.secret, method, path, expires=expires)

    def refusal(self, method: str, path: str, expires: str | None, given: str | None) -> str | None:
        return signing.valid(self.secret, method, path, expires, given, now=time.time())

    async def begin(self, upload: Upload) -> tuple[Upload, UploadTarget]:
        url = self._signed("PUT", f"/uploads/{upload.id}")
        bundle = self._signed("PUT", "/bundles")  # small files may go many to a request
        target = UploadTarget(
            upload_id=upload.id, url=url, bundle_url=bundle, expires_at=upload.expires_at
        )
        return upload, target

    async def receive(self, upload: Upload, chunks: AsyncIterator[bytes]) -> str:
        """Stream a PUT body to staging, hashing as it goes; returns the digest received."""
        if upload.id in self._receiving:
            raise Refused(409, f"upload {upload.id} is already receiving bytes")
        self._receiving.add(upload.id)
        partial = self._own(staging_key(upload.id) + ".part")
        renamed = False
        try:
            with disk_errors(self.root):
                digest, size = await _write(partial, chunks, limit=upload.size)
                check_received(upload.sha256 or digest, upload.size, digest, size)
                staged = self._staged(upload.id, digest)
                if size < WRITE_BUFFER:
                    partial.rename(staged)  # a thread costs more than renaming a small file
                else:
                    await self._blocking(partial.rename, staged)
            renamed = True
            earlier = self._received.pop(upload.id, digest)
            if earlier != digest:  # the same upload sent again, other bytes: keep the last
                self._staged(upload.id, earlier).unlink(missing_ok=True)
            self._received[upload.id] = digest
            return digest
        finally:
            self._receiving.discard(upload.id)
            if not renamed:  # a refused or broken body leaves no trace
                with contextlib.suppress(OSError):  # a read-only store holds none anyway
                    partial.unlink(missing_ok=True)

    def _staged(self, upload_id: str, sha256: str) -> Path:
        return self._own(f"{staging_key(upload_id)}.{check_digest(sha256)}")

    async def finish(self, upload: Upload, sha256: str, parts: list[PartDone]) -> None:
        """Wait for the next group commit to make the staged bytes the blob (see _promote);
        a rename puts every blob under its content key."""
        done = asyncio.get_running_loop().create_future()
        self._promoting.append((upload, sha256, done))
        if self._promoter is None or self._promoter.done():
            self._promoter = asyncio.create_task(self._promote_waiting())
        await done
        self._received.pop(upload.id, None)

    async def _promote_waiting(self) -> None:
        """Group commit: what arrives while one group is promoted goes in the next one, so
        a commit of thousands of small files costs two file-system syncs, not two each."""
        while self._promoting:
            group, self._promoting = self._promoting, []
            try:
                outcomes = await self._blocking(self._promote, [(u, s) for u, s, _ in group])
            except Exception as error:  # the disk failed: each commit of the group says so
                outcomes = [error] * len(group)
            except asyncio.CancelledError:
                for _, _, done in group:
                    done.cancel()
                raise
            for (_, _, done), outcome in zip(group, outcomes, strict=True):
                if done.done():
                    continue  # its commit was cancelled
                if outcome is None:
                    done.set_result(None)
                else:
                    done.set_exception(outcome)

    def _promote(self, group: list[tuple[Upload, str]]) -> list[BaseException | None]:
        """Staged bytes become blobs: synced, renamed, the renames synced. In a worker
        thread: on a busy disk each step waits for the journal, and the loop must not."""
        outcomes: list[BaseException | None] = []
        moves = []
        for upload, sha256 in group:
            staged = self._staged(upload.id, sha256)
            try:
                if not staged.exists():
                    self._refuse_unstaged(upload, sha256)
                moves.append((staged, self._own(blob_key(sha256))))
                outcomes.append(None)
            except Refused as refusal:
                outcomes.append(refusal)
        if moves:
            with disk_errors(self.root):
                _sync_file_system(self.root)
                for staged, target in moves:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    staged.replace(target)  # the same digest twice is the same bytes: safe
                _sync_file_system(self.root)
        return outcomes

    def _refuse_unstaged(self, upload: Upload, sha256: str) -> None:
        others = self._all_staged(upload.id)
        if not others:
            raise Refused(409, f"no bytes received for upload {upload.id}: PUT them first")
        received, size = others[0].name.rsplit(".", 1)[1], others[0].stat().st_size
        self._drop_staged(upload.id)
        check_received(sha256, upload.size, received, size)
        raise Refused(409, f"upload {upload.id} staged other bytes than {sha256}")

    def _all_staged(self, upload_id: str) -> list[Path]:
        staging = self.path(staging_key(upload_id)).parent
        return [p for p in staging.glob(f"{upload_id}.*") if not p.name.endswith(".part")]

    def _drop_staged(self, upload_id: str) -> None:
        with disk_errors(self.root):
            for path in self._all_staged(upload_id):
                path.unlink(missing_ok=True)

    async def abort(self, upload: Upload) -> None:
        self._received.pop(upload.id, None)
        await self._blocking(self._drop_staged, upload.id)

    async def locate(self, blob: BlobInfo) -> str:
        return self._signed("GET", f"/blobs/{blob.sha256}")

    async def delete(self, blob: BlobInfo) -> None:
        self._own(blob_key(blob.sha256)).unlink(missing_ok=True)
        self._own(preview_key(blob.sha256)).unlink(missing_ok=True)

    async def discard(self, location: str) -> None:
        self.path(location).unlink(missing_ok=True)

    async def write_previews(self, documents: dict[str, bytes]) -> None:
        # In a thread: a file create can cost a millisecond on a busy disk, and a batch of
        # them would hold up the data plane's uploads on the loop.
        await asyncio.to_thread(self._write_previews, documents)

    def _write_previews(self, documents: dict[str, bytes]) -> None:
        with disk_errors(self.root):  # a full store postpones them (previewer.py)
            self._write_preview_files(documents)

    def _write_preview_files(self, documents: dict[str, bytes]) -> None:
        for sha256, data in documents.items():
            path = self._own(preview_key(sha256))
            temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            try:
                temporary.write_bytes(data)
            except FileNotFoundError:  # the first preview in its folder
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary.write_bytes(data)
            temporary.replace(path)

    async def read_preview(self, sha256: str) -> bytes | None:
        try:
            return self._own(preview_key(sha256)).read_bytes()
        except FileNotFoundError:
            return None

    @contextlib.asynccontextmanager
    async def local_file(self, blob: BlobInfo) -> AsyncIterator[Path]:
        yield self._own(blob_key(blob.sha256))


async def _write(path: Path, chunks: AsyncIterator[bytes], *, limit: int) -> tuple[str, int]:
    """Write and hash; stop reading as soon as more than `limit` bytes arrive.

    Each MiB is hashed and written by a thread of this upload's own, in order, while the
    loop goes on receiving: up to IN_FLIGHT MiB wait for it (bounded memory). Had the loop
    waited for each MiB, the client would stall on a full socket while the thread hashes."""
    hasher, size, pending, buffered = hashlib.sha256(), 0, list[bytes](), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    worker: ThreadPoolExecutor | None = None
    in_flight: deque[asyncio.Future[None]] = deque()
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise Refused(413, f"body longer than the declared {limit} bytes")
            pending.append(chunk)
            buffered += len(chunk)
            if buffered >= WRITE_BUFFER:  # fewer, larger writes, and no copying into a buffer
                worker = worker or ThreadPoolExecutor(1, thread_name_prefix="receive")
                if len(in_flight) >= IN_FLIGHT:
                    await in_flight.popleft()
                in_flight.append(asyncio.wrap_future(worker.submit(_consume, fd, hasher, pending)))
                pending, buffered = [], 0
        while in_flight:
            await in_flight.popleft()
        _consume(fd, hasher, pending)  # a small file's bytes: cheaper here than in a thread
    finally:
        if worker:
            for waiting in in_flight:  # broken off: what is still queued is dropped
                waiting.cancel()
            worker.submit(os.close, fd)  # after the write under way: the thread keeps order
            worker.shutdown(wait=False)
        else:
            os.close(fd)
    return hasher.hexdigest(), size


def _consume(fd: int, hasher: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        hasher.update(chunk)
    _write_all(fd, chunks)


def _write_all(fd: int, chunks: list[bytes]) -> None:
    written = os.writev(fd, chunks) if chunks else 0
    rest = memoryview(b"".join(chunks))[written:] if written < sum(map(len, chunks)) else None
    while rest:  # a short write, rare on files: finish it plainly
        rest = rest[os.write(fd, rest) :]


_syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)  # Linux


def _sync_file_system(path: Path) -> None:
    """Flush what was written to the file system holding `path` (Linux's syncfs; elsewhere
    os.sync, every file system): one call makes a whole group of blobs durable."""
    if _syncfs is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if _syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncing {path}: {os.strerror(errno)}")
    finally:
        os.close(fd)
