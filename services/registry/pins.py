"""Pinning external data: what the source says about it now, to notice later when it changed.

file:// data (only under the declared roots) is hashed: a file's sha256, a directory's
manifest digest and per-file listing, within a size and time budget; that is slow, so it is
done in the background (see pinning.py). https:// gives its ETag, Last-Modified and length;
s3:// the object's ETag and version id, or a prefix's listing (when S3 pinning is
configured). Other schemes cannot be pinned: the version records that it is not.
"""

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from services.registry.domain.roots import refusal
from shared.datafiles import describe, walk
from shared.events import FileEntry
from shared.manifest import digest as manifest_digest
from shared.uris import Uri, parse_uri

LISTED = 10_000  # a directory's listing is kept up to this many files (for diffs)
CHUNK = 1024**2

Pin = dict[str, Any]


@dataclass(frozen=True)
class Budget:
    """What hashing one external version may take."""

    max_bytes: int
    max_s: float


class Unpinnable(Exception):
    """Data boxops may not or could not hash: outside the roots, gone, over the budget."""


class Pinner:
    def __init__(
        self,
        *,
        s3: Callable[[], Any] | None = None,
        timeout_s: float = 5.0,
        roots: Sequence[Path] = (),
        budget: Budget = Budget(16 * 1024**3, 600),
    ) -> None:
        self.s3 = s3  # a factory of aioboto3 S3 clients, when S3 pinning is configured
        self.timeout_s = timeout_s
        self.roots = [root.resolve() for root in roots]
        self.budget = budget

    def reads_data(self, uri: str, digest: str | None = None) -> bool:
        """Whether pinning `uri` reads the data itself (then it is background work): file://
        data always; an S3 object when a digest is declared, to check it, and S3 is set up."""
        parsed = parse_uri(uri)
        return parsed.scheme == "file" or (digest is not None and self._s3_object(parsed))

    def _s3_object(self, uri: Uri) -> bool:
        key = uri.path.lstrip("/")
        return uri.scheme in ("s3", "s3a") and self.s3 is not None and bool(key)

    async def pin_data(
        self, uri: str, stop: threading.Event | None = None
    ) -> tuple[Pin, dict[str, Any]]:
        """Hash the data itself within the budget; raises Unpinnable saying why it cannot."""
        parsed = parse_uri(uri)
        if parsed.scheme == "file":
            return await self.pin_local(uri, stop)
        from botocore.exceptions import BotoCoreError, ClientError  # only with S3 pinning

        try:
            return await self._s3_hashed(parsed, Clock(uri, self.budget.max_s, stop)), {}
        except (OSError, BotoCoreError, ClientError) as err:
            raise Unpinnable(f"{uri}: cannot be read: {err}") from None

    def check(self, uri: str) -> None:
        """Refuse a file:// URI outside the roots (cheap: resolves its path, reads nothing)."""
        if self.reads_data(uri):
            local_path(uri, self.roots)

    async def pin_local(
        self, uri: str, stop: threading.Event | None = None
    ) -> tuple[Pin, dict[str, Any]]:
        """Hash file:// data within the budget; raises Unpinnable saying why it cannot."""
        return await asyncio.to_thread(pin_local, uri, self.roots, self.budget, stop)

    async def pin(self, uri: str) -> tuple[Pin, dict[str, Any]]:
        """(pin, metadata extracted on the way); never raises for an unreachable source."""
        parsed = parse_uri(uri)
        try:
            if parsed.scheme == "file":
                return await self.pin_local(uri)
            if parsed.scheme in ("http", "https"):
                return await self._http(uri), {}
            if parsed.scheme in ("s3", "s3a") and self.s3 is not None:
                return await self._s3(parsed), {}
        except Unpinnable as err:
            return {"kind": "unreachable", "note": str(err)}, {}
        except (OSError, httpx.HTTPError, TimeoutError) as err:
            return {"kind": "unreachable", "note": f"{type(err).__name__}: {err}"}, {}
        return {"kind": "none", "note": f"{parsed.scheme}:// data is not pinned by boxops"}, {}

    async def _http(self, uri: str) -> Pin:
        async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=True) as http:
            response = await http.head(uri)
        if response.status_code >= 400:
            return {"kind": "unreachable", "note": f"HEAD {uri}: {response.status_code}"}
        pin: Pin = {
            "kind": "http",
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
            "size": _int(response.headers.get("content-length")),
        }
        modified = pin["last_modified"] and f"{pin['last_modified']}/{pin['size']}"
        fingerprint = pin["etag"] or modified
        return {**pin, "fingerprint": fingerprint} if fingerprint else pin

    async def _s3(self, uri: Uri) -> Pin:
        assert self.s3 is not None  # noqa: S101
        bucket, key = uri.host, uri.path.lstrip("/")
        async with self.s3() as client:
            if key and not key.endswith("/"):
                head = await client.head_object(Bucket=bucket, Key=key)
                etag, version_id = head.get("ETag", "").strip('"'), head.get("VersionId")
                return {
                    "kind": "s3",
                    "etag": etag,
                    "version_id": version_id,
                    "size": head.get("ContentLength"),
                    "fingerprint": version_id or etag,
                }
            listing = await _s3_listing(client, bucket, key)
        return _listing_pin("s3-prefix", listing)

    async def _s3_hashed(self, uri: Uri, clock: "Clock") -> Pin:
        """An S3 object's sha256 (that version of it), read within the budget."""
        assert self.s3 is not None  # noqa: S101
        bucket, key = uri.host, uri.path.lstrip("/")
        hasher = hashlib.sha256()
        async with self.s3() as client:
            head = await client.head_object(Bucket=bucket, Key=key)
            size, version_id = head.get("ContentLength") or 0, head.get("VersionId")
            if size > self.budget.max_bytes:
                raise Unpinnable(f"{uri.text}: more than the {self.budget.max_bytes}-byte budget")
            which = {"VersionId": version_id} if version_id else {}
            body = (await client.get_object(Bucket=bucket, Key=key, **which))["Body"]
            async with body:
                while chunk := await body.read(CHUNK):
                    clock.tick()
                    hasher.update(chunk)
        sha256, etag = hasher.hexdigest(), head.get("ETag", "").strip('"')
        return {
            "kind": "s3",
            "etag": etag,
            "version_id": version_id,
            "size": size,
            "sha256": sha256,
            "digest": f"sha256:{sha256}",
            "fingerprint": version_id or etag,
            "listing": {key.rsplit("/", 1)[-1]: sha256},
        }


async def _s3_listing(client: Any, bucket: str, prefix: str) -> dict[str, str]:
    listing: dict[str, str] = {}
    paginator = client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            listing[item["Key"][len(prefix) :]] = f"{item['Size']}:{item['ETag'].strip(chr(34))}"
    return listing


def local_path(uri: str, roots: Sequence[Path]) -> Path:
    """The path of a file:// URI, links and '..' resolved, when it lies under the roots."""
    resolved = Path(unquote(parse_uri(uri).path)).resolve()  # also for a path not there
    reason = refusal(uri, resolved, roots)
    if reason:
        raise Unpinnable(reason)
    return resolved


class Clock:
    """Stops hashing past the budget's time, or when the service stops."""

    def __init__(self, uri: str, max_s: float, stop: threading.Event | None) -> None:
        self.uri, self.max_s, self.stop = uri, max_s, stop
        self.deadline = time.monotonic() + max_s

    def tick(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise Unpinnable(f"{self.uri}: stopped before it was hashed")
        if time.monotonic() > self.deadline:
            raise Unpinnable(f"{self.uri}: not hashed within the {self.max_s:g} s budget")


def pin_local(
    uri: str, roots: Sequence[Path], budget: Budget, stop: threading.Event | None = None
) -> tuple[Pin, dict[str, Any]]:
    """A local file or directory under the roots: every file's sha256 (the listing), the
    digest of the whole (a file's sha256, a directory's manifest digest), and metadata."""
    path = local_path(uri, roots)
    if not path.exists():
        raise Unpinnable(f"{uri}: does not exist")
    clock = Clock(uri, budget.max_s, stop)
    found = list(_files(uri, path, roots, budget, clock))
    entries = [
        FileEntry.model_construct(path=rel, size=size, sha256=_sha256(file, clock))
        for rel, size, file in found
    ]
    listing = {entry.path: entry.sha256 for entry in entries}
    total = sum(entry.size for entry in entries)
    meta = {"files": len(entries), "bytes": total, **describe(file for _, _, file in found)}
    if path.is_file():
        stat = path.stat()
        sha256 = entries[0].sha256
        pin: Pin = {"kind": "file", "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        pin |= {"sha256": sha256, "digest": f"sha256:{sha256}", "fingerprint": sha256}
        return {**pin, "listing": listing}, meta
    digest = manifest_digest(entries)
    pin = {"kind": "dir", "files": len(entries), "bytes": total, "digest": digest}
    pin["fingerprint"] = digest
    if len(listing) <= LISTED:
        pin["listing"] = listing
    return pin, meta


def _files(
    uri: str, path: Path, roots: Sequence[Path], budget: Budget, clock: Clock
) -> Iterator[tuple[str, int, Path]]:
    """(relative path, size, path) of every file, refusing links out of the roots and
    stopping as soon as the total passes the budget."""
    total = 0
    for rel, stat, file in walk(path):
        clock.tick()
        if refusal(uri, file.resolve(), roots):
            raise Unpinnable(f"{uri}: {rel} links outside the external file roots")
        total += stat.st_size
        if total > budget.max_bytes:
            raise Unpinnable(f"{uri}: more than the {budget.max_bytes}-byte budget to hash")
        yield rel, stat.st_size, file


def _listing_pin(kind: str, listing: dict[str, str]) -> Pin:
    digest = hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()
    pin: Pin = {"kind": kind, "files": len(listing), "fingerprint": f"listing:{digest}"}
    if len(listing) <= LISTED:
        pin["listing"] = listing
    return pin


def _sha256(path: Path, clock: Clock) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            clock.tick()
            h.update(chunk)
    return h.hexdigest()


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
