"""A client of the artifact store (through the gateway), for the CLI, the registry's
`datasets push` and the executor.

`AsyncArtifacts` streams files up and down without holding them in memory, sends many
small files concurrently with batched reserve/commit calls, and checks every download
against its sha256. `Artifacts` is the same for synchronous callers (the CLI).
"""

import asyncio
import hashlib
import json
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx

from shared.artifacts import (
    MAX_BATCH,
    BadKey,
    BlobInfo,
    NameInfo,
    Presence,
    Preview,
    Reservation,
    UploadTarget,
    check_digest,
    check_key,
    frame_header,
)

T = TypeVar("T")
Progress = Callable[[int], None]
CHUNK = 1024**2
PREHASH_MAX = 64 * 1024**2  # smaller files are hashed first, so stored ones are not sent
TRIES = 3
BUNDLE_FILE_MAX = 1024**2  # files up to this size go many to a request where the store can
BUNDLE_FILES = 100
BUNDLE_BYTES = 16 * 1024**2
BATCHES_AT_ONCE = 3
TIMEOUT = httpx.Timeout(30.0, read=900.0, write=300.0)  # commits of big S3 blobs re-hash them
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=30.0, sock_read=900.0)


class ArtifactError(Exception):
    """The store refused or could not be reached; the text says why."""


@dataclass(frozen=True)
class LocalFile:
    """A file to upload: where it is and the name it is stored under."""

    path: Path
    name: str
    media_type: str | None = None
    sha256: str | None = None  # when the caller hashed it already


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    """The file's sha256; `progress` is told the bytes of each chunk as it is hashed."""
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)  # hashlib lets go of the GIL on big chunks
            if progress:
                progress(len(chunk))
    return hasher.hexdigest()


def files_under(root: Path) -> list[LocalFile]:
    """Every regular file under root (or root itself) with its '/'-separated relative name.

    Refuses symbolic links (they could point anywhere on the machine) and names that the
    store would refuse, before anything is sent."""
    if root.is_symlink():
        raise ArtifactError(f"{root} is a symbolic link; push what it points to instead")
    if root.is_file():
        return [LocalFile(root, _name(root.name))]
    found: list[LocalFile] = []

    def walk(folder: str, prefix: str) -> None:  # os.scandir: no extra stat per entry
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_symlink():
                    problem = "is a symbolic link; boxops does not follow links"
                    raise ArtifactError(f"{entry.path} {problem}")
                if entry.is_dir():
                    walk(entry.path, f"{prefix}{entry.name}/")
                elif entry.is_file():
                    found.append(LocalFile(Path(entry.path), _name(prefix + entry.name)))

    walk(str(root), "")
    return found


def _name(name: str) -> str:
    try:
        return check_key(name, "file name")
    except BadKey as err:
        raise ArtifactError(str(err)) from None


class AsyncArtifacts:
    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        concurrency: int = 16,
        prehash_max: int = PREHASH_MAX,
    ) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.api = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=TIMEOUT, limits=limits
        )
        # Bytes go to presigned or signed URLs: a separate client never sends them the token.
        self.data = httpx.AsyncClient(timeout=TIMEOUT, limits=limits)
        # Big uploads run on httpx's sync client in a thread: ~3x the async client's
        # throughput on a stream of large chunks (no event-loop hop per chunk).
        self.bulk = httpx.Client(timeout=TIMEOUT, limits=limits)
        self._download_session: aiohttp.ClientSession | None = None  # downloads (see _fetch)
        self.concurrency = concurrency
        self.prehash_max = prehash_max

    async def __aenter__(self) -> "AsyncArtifacts":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.api.aclose()
        await self.data.aclose()
        self.bulk.close()
        if self._download_session is not None:
            await self._download_session.close()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self.api.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise ArtifactError(f"cannot reach the gateway at {self.base_url}: {err}") from None
        if response.status_code >= 400:
            raise ArtifactError(f"{response.status_code}: {_detail(response)}")
        return response.json()

    async def exists(self, digests: Sequence[str]) -> Presence:
        """Which of these digests are stored (any number, asked in large batches)."""
        present, missing = [], []
        for start in range(0, len(digests), 10_000):
            body = {"sha256": list(digests[start : start + 10_000])}
            answer = Presence.model_validate(
                await self._call("POST", "/v1/artifacts/exists", json=body)
            )
            present += answer.present
            missing += answer.missing
        return Presence(present=present, missing=missing)

    async def stat(self, sha256: str) -> BlobInfo:
        return BlobInfo.model_validate(await self._call("GET", f"/v1/artifacts/{sha256}/metadata"))

    async def preview(self, sha256: str) -> Preview:
        return Preview.model_validate(await self._call("GET", f"/v1/artifacts/{sha256}/preview"))

    async def listing(self, *, limit: int = 100, after: str | None = None) -> list[BlobInfo]:
        params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
        rows = await self._call("GET", "/v1/artifacts", params=params)
        return [BlobInfo.model_validate(row) for row in rows]

    async def delete(self, sha256: str) -> None:
        await self._call("DELETE", f"/v1/artifacts/{sha256}")

    async def bind(self, key: str, sha256: str) -> NameInfo:
        """Name a stored blob, e.g. runs/<run id>/logs.jsonl."""
        body = {"sha256": sha256}
        return NameInfo.model_validate(
            await self._call("PUT", f"/v1/artifacts/names/{key}", json=body)
        )

    async def name(self, key: str) -> NameInfo:
        return NameInfo.model_validate(await self._call("GET", f"/v1/artifacts/names/{key}"))

    async def put_file(
        self,
        path: Path,
        *,
        name: str | None = None,
        media_type: str | None = None,
        progress: Progress | None = None,
    ) -> BlobInfo:
        """Upload one file of any size; returns its blob (stored now or before)."""
        local = LocalFile(path, _name(name or path.name), media_type)
        return (await self.put_files([local], progress=progress))[0]

    async def put_files(
        self, files: Sequence[LocalFile], *, progress: Progress | None = None
    ) -> list[BlobInfo]:
        """Upload many files: small ones hashed first and skipped when stored, all sent
        concurrently, reserved and committed in batches, a few batches at a time so one's
        commit overlaps the next one's bytes. Results in the order given."""
        limit = asyncio.Semaphore(BATCHES_AT_ONCE)

        async def batch(start: int) -> list[BlobInfo]:
            async with limit:
                return await self._put_batch(files[start : start + MAX_BATCH], progress)

        batches = await asyncio.gather(*(batch(s) for s in range(0, len(files), MAX_BATCH)))
        return [blob for results in batches for blob in results]

    async def _put_batch(
        self, files: Sequence[LocalFile], progress: Progress | None
    ) -> list[BlobInfo]:
        sizes = await asyncio.to_thread(lambda: [f.path.stat().st_size for f in files])
        digests = await asyncio.gather(
            *(_prehash(f, size, self.prehash_max) for f, size in zip(files, sizes, strict=True))
        )
        specs = [
            {"size": size, "sha256": digest, "name": f.name, "media_type": f.media_type}
            for f, size, digest in zip(files, sizes, digests, strict=True)
        ]
        answer = await self._call("POST", "/v1/artifacts/uploads", json={"blobs": specs})
        reservations = [Reservation.model_validate(r) for r in answer]
        pending = [i for i, r in enumerate(reservations) if not r.exists]
        bundled = [i for i in pending if _bundles(reservations[i], sizes[i], digests[i])]
        alone = [i for i in pending if i not in set(bundled)]
        limit = asyncio.Semaphore(self.concurrency)

        async def send(index: int) -> dict[str, Any]:
            async with limit:
                target = reservations[index].upload
                assert target is not None  # noqa: S101
                file, size = files[index].path, sizes[index]
                return await self._send(file, size, target, digests[index], progress)

        sent = await asyncio.gather(
            *(send(i) for i in alone),
            *(
                self._bundle(group, files, reservations, progress)
                for group in _groups(bundled, sizes)
            ),
        )
        commits = dict(zip(alone, sent[: len(alone)], strict=True))
        for group in sent[len(alone) :]:
            commits |= group
        blobs: dict[int, BlobInfo] = {
            i: r.blob for i, r in enumerate(reservations) if r.exists and r.blob
        }
        if commits:
            order = [i for i in pending if i in commits]
            body = {"commits": [commits[i] for i in order]}
            done = await self._call("POST", "/v1/artifacts/commits", json=body)
            for index, result in zip(order, done, strict=True):
                if not result["ok"]:
                    problem = f"{result['status']}: {result['error']}"
                    raise ArtifactError(f"{files[index].path}: {problem}")
                blobs[index] = BlobInfo.model_validate(result["blob"])
        return [blobs[i] for i in range(len(files))]

    # C901 counts the nested body generator's branches with the method's.
    async def _bundle(  # noqa: C901
        self,
        group: list[int],
        files: Sequence[LocalFile],
        reservations: list[Reservation],
        progress: Progress | None,
    ) -> dict[int, dict[str, Any]]:
        """Small files in one PUT (frames: header line, then the bytes); their commits."""
        targets = [reservations[i].upload for i in group]
        assert all(targets) and targets[0] and targets[0].bundle_url  # noqa: S101

        async def body() -> AsyncIterator[bytes]:
            # Frames go out joined, about a CHUNK at a time: a write per small file cost
            # more CPU on both ends than the bytes themselves.
            pending, weight = list[bytes](), 0
            for index, target in zip(group, targets, strict=True):
                data = files[index].path.read_bytes()
                assert target  # noqa: S101
                pending += (frame_header(target.upload_id, len(data)), data)
                weight += len(data)
                if weight >= CHUNK:
                    yield b"".join(pending)
                    if progress:
                        progress(weight)
                    pending, weight = [], 0
            if pending:
                yield b"".join(pending)
                if progress:
                    progress(weight)

        try:
            response = await self.data.put(targets[0].bundle_url, content=body())
        except httpx.TransportError as err:
            raise ArtifactError(f"sending {len(group)} small files failed: {err}") from None
        if response.status_code >= 300:
            raise ArtifactError(f"{response.status_code}: {_detail(response)}")
        commits = {}
        for index, result in zip(group, response.json(), strict=False):
            if not result["ok"]:
                raise ArtifactError(f"{files[index].path}: {result['status']}: {result['error']}")
            commits[index] = {"upload_id": result["upload_id"], "sha256": result["sha256"]}
        if len(commits) != len(group):
            raise ArtifactError(f"the store took {len(commits)} of {len(group)} small files")
        return commits

    async def _send(
        self,
        path: Path,
        size: int,
        target: UploadTarget,
        digest: str | None,
        progress: Progress | None,
    ) -> dict[str, Any]:
        """PUT the bytes where the reservation says; hash alongside if not hashed yet."""
        hashing = None if digest else asyncio.create_task(asyncio.to_thread(sha256_of, path))
        parts: list[dict[str, Any]] = []
        if target.url:
            await self._put(target.url, path, 0, size, target.headers, progress)
        else:
            limit = asyncio.Semaphore(4)

            async def part(number: int, url: str, offset: int, size: int) -> None:
                async with limit:
                    etag = await self._put(url, path, offset, size, {}, progress)
                parts.append({"number": number, "etag": etag})

            await asyncio.gather(*(part(p.number, p.url, p.offset, p.size) for p in target.parts))
        digest = digest or await hashing  # type: ignore[misc]
        return {"upload_id": target.upload_id, "sha256": digest, "parts": parts}

    async def _put(
        self,
        url: str,
        path: Path,
        offset: int,
        size: int,
        headers: dict[str, str],
        progress: Progress | None,
    ) -> str:
        """One PUT of a file range, retried when the connection breaks; returns the ETag."""
        headers = headers | {"content-length": str(size)}
        for attempt in range(1, TRIES + 1):
            sent: list[int] = []
            try:
                body = _read(path, offset, size, progress, sent)
                response = await asyncio.to_thread(
                    self.bulk.put, url, content=body, headers=headers
                )
            except httpx.TransportError as err:
                if progress and sent:
                    progress(-sum(sent))  # the retry sends these again
                if attempt == TRIES:
                    raise ArtifactError(f"sending {path} failed {TRIES} times: {err}") from None
                await asyncio.sleep(0.5 * attempt)
                continue
            if response.status_code >= 300:
                raise ArtifactError(f"{path}: {response.status_code}: {_detail(response)}")
            return response.headers.get("etag", "")
        raise AssertionError("unreachable")

    async def get(self, sha256: str, dest: Path, *, progress: Progress | None = None) -> Path:
        """Download a blob to `dest` (atomically), checking its sha256; resumes with Range
        when the connection breaks."""
        sha256 = check_digest(sha256)
        url = await self._location(sha256)
        partial = dest.with_name(f".{dest.name}.part")
        try:
            digest = await self._download(url, partial, progress)
            if digest != sha256:
                raise ArtifactError(f"downloaded bytes hash to {digest}, not {sha256}")
        except (aiohttp.ClientError, TimeoutError) as err:
            partial.unlink(missing_ok=True)
            raise ArtifactError(f"downloading {sha256} failed: {err!r}") from None
        except BaseException:
            partial.unlink(missing_ok=True)  # nothing half-downloaded is left behind
            raise
        partial.replace(dest)
        return dest

    async def _location(self, sha256: str) -> str:
        """Where the bytes are: the gateway's redirect, followed without the token."""
        try:
            response = await self.api.get(f"/v1/artifacts/{sha256}")
        except httpx.TransportError as err:
            raise ArtifactError(f"cannot reach the gateway at {self.base_url}: {err}") from None
        if response.status_code >= 400:
            raise ArtifactError(f"{response.status_code}: {_detail(response)}")
        return str(response.next_request.url if response.next_request else response.url)

    def _downloader(self) -> aiohttp.ClientSession:
        if self._download_session is None:  # made in the running loop, as aiohttp wants
            self._download_session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency),
                timeout=DOWNLOAD_TIMEOUT,
                auto_decompress=False,  # the bytes as stored: they are what is hashed
                trust_env=True,  # proxies and .netrc from the environment, as httpx does
            )
        return self._download_session

    async def _download(self, url: str, partial: Path, progress: Progress | None) -> str:
        hasher = hashlib.sha256()
        with partial.open("wb") as out:
            for attempt in range(1, TRIES + 1):
                try:
                    await self._fetch(url, out, hasher, progress)
                    return hasher.hexdigest()
                except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError):
                    if attempt == TRIES:
                        raise
        raise AssertionError("unreachable")

    async def _fetch(self, url: str, out: Any, hasher: Any, progress: Progress | None) -> None:
        """One GET from what is written on (a retry resumes after what is hashed). aiohttp
        parses HTTP in C: about a third of httpx's CPU a byte, and on a busy machine the
        CPU a byte is the throughput."""
        written = out.tell()
        headers = {"Accept-Encoding": "identity"}
        if written:
            headers["Range"] = f"bytes={written}-"
        async with self._downloader().get(url, headers=headers) as response:
            if response.status >= 400:
                raise ArtifactError(f"{response.status}: {_detail_of(await response.text())}")
            if written and response.status != 206:
                raise ArtifactError(f"the store cannot resume {url} (no Range support)")
            if response.content_length is not None and response.content_length <= CHUNK:
                _consume(out, hasher, await response.read())  # small: no thread needed
                if progress:
                    progress(response.content_length)
                return
            await _consume_streamed(response, out, hasher, progress)


async def _consume_streamed(
    response: Any, out: Any, hasher: Any, progress: Progress | None
) -> None:
    with ThreadPoolExecutor(1) as consumer:  # hashes and writes while bytes arrive
        pending: deque[Future[None]] = deque()
        try:
            async for chunk in response.content.iter_chunked(CHUNK):
                pending.append(consumer.submit(_consume, out, hasher, chunk))
                if len(pending) > 4:
                    await asyncio.wrap_future(pending.popleft())
                if progress:
                    progress(len(chunk))
            while pending:
                await asyncio.wrap_future(pending.popleft())
        finally:
            for done in pending:  # broken off: in order, so out.tell() is what was hashed
                done.result()


def _consume(out: Any, hasher: Any, chunk: bytes) -> None:
    hasher.update(chunk)
    out.write(chunk)


def _bundles(reservation: Reservation, size: int, digest: str | None) -> bool:
    target = reservation.upload
    return bool(target and target.bundle_url and digest and size <= BUNDLE_FILE_MAX)


def _groups(indices: list[int], sizes: list[int]) -> list[list[int]]:
    """Bundles of at most BUNDLE_FILES files and about BUNDLE_BYTES bytes."""
    groups: list[list[int]] = []
    weight = 0
    for index in indices:
        if not groups or len(groups[-1]) >= BUNDLE_FILES or weight + sizes[index] > BUNDLE_BYTES:
            groups.append([])
            weight = 0
        groups[-1].append(index)
        weight += sizes[index]
    return groups


async def _prehash(file: LocalFile, size: int, limit: int) -> str | None:
    path = file.path
    if file.sha256:
        return file.sha256  # the caller hashed it (a dataset push hashes for its manifest)
    if size > limit:
        return None  # hashed while it is sent: one read of a big file, not two
    if size <= CHUNK:
        return sha256_of(path)  # a thread costs more than hashing a small file
    return await asyncio.to_thread(sha256_of, path)


def _read(
    path: Path, offset: int, size: int, progress: Progress | None, sent: list[int]
) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(offset)
        left = size
        while left:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise ArtifactError(f"{path} shrank while it was being sent")
            left -= len(chunk)
            sent.append(len(chunk))
            if progress:
                progress(len(chunk))
            yield chunk


def _detail(response: httpx.Response) -> str:
    return _detail_of(response.text)


def _detail_of(text: str) -> str:
    """The `detail` of a JSON error body, or the start of the body."""
    try:
        detail = json.loads(text).get("detail", text)
    except (ValueError, AttributeError):
        return text[:1000]
    return str(detail)


class Artifacts:
    """The same operations for synchronous callers; each call runs its own event loop."""

    def __init__(self, base_url: str, token: str = "", *, concurrency: int = 16) -> None:
        self.base_url, self.token, self.concurrency = base_url, token, concurrency

    def _run(self, call: Callable[[AsyncArtifacts], Coroutine[Any, Any, T]]) -> T:
        async def main() -> T:
            async with AsyncArtifacts(self.base_url, self.token, concurrency=self.concurrency) as c:
                return await call(c)

        return asyncio.run(main())

    def put_file(self, path: Path, **kwargs: Any) -> BlobInfo:
        return self._run(lambda c: c.put_file(path, **kwargs))

    def put_files(self, files: Sequence[LocalFile], **kwargs: Any) -> list[BlobInfo]:
        return self._run(lambda c: c.put_files(files, **kwargs))

    def get(self, sha256: str, dest: Path, **kwargs: Any) -> Path:
        return self._run(lambda c: c.get(sha256, dest, **kwargs))

    def exists(self, digests: Sequence[str]) -> Presence:
        return self._run(lambda c: c.exists(digests))

    def stat(self, sha256: str) -> BlobInfo:
        return self._run(lambda c: c.stat(sha256))

    def preview(self, sha256: str) -> Preview:
        return self._run(lambda c: c.preview(sha256))

    def listing(self, **kwargs: Any) -> list[BlobInfo]:
        return self._run(lambda c: c.listing(**kwargs))

    def delete(self, sha256: str) -> None:
        self._run(lambda c: c.delete(sha256))

    def bind(self, key: str, sha256: str) -> NameInfo:
        return self._run(lambda c: c.bind(key, sha256))

    def name(self, key: str) -> NameInfo:
        return self._run(lambda c: c.name(key))
