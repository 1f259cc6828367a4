"""Pinning external data: what the source says about it now, to notice later when it changed.

file:// gives size and mtime (and a sha256 for files small enough to hash cheaply), a
directory its listing; https:// its ETag, Last-Modified and length; s3:// the object's ETag
and version id, or a prefix's listing (when S3 pinning is configured). Other schemes cannot
be pinned: the version records that it is not.
"""

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from shared.datafiles import describe, walk
from shared.uris import Uri, parse_uri

HASH_LIMIT = 64 * 1024**2  # files up to this size get a content digest in their pin
LISTED = 10_000  # a directory's listing is kept up to this many files (for diffs)

Pin = dict[str, Any]


class Pinner:
    def __init__(self, *, s3: Callable[[], Any] | None = None, timeout_s: float = 5.0) -> None:
        self.s3 = s3  # a factory of aioboto3 S3 clients, when S3 pinning is configured
        self.timeout_s = timeout_s

    async def pin(self, uri: str) -> tuple[Pin, dict[str, Any]]:
        """(pin, metadata extracted on the way); never raises for an unreachable source."""
        parsed = parse_uri(uri)
        try:
            if parsed.scheme == "file":
                return await asyncio.to_thread(pin_path, Path(unquote(parsed.path)))
            if parsed.scheme in ("http", "https"):
                return await self._http(uri), {}
            if parsed.scheme in ("s3", "s3a") and self.s3 is not None:
                return await self._s3(parsed), {}
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


async def _s3_listing(client: Any, bucket: str, prefix: str) -> dict[str, str]:
    listing: dict[str, str] = {}
    paginator = client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            listing[item["Key"][len(prefix) :]] = f"{item['Size']}:{item['ETag'].strip(chr(34))}"
    return listing


def pin_path(path: Path) -> tuple[Pin, dict[str, Any]]:
    """A local file or directory: size and mtime (a file also its sha256), plus metadata."""
    if not path.exists():
        return {"kind": "unreachable", "note": f"{path} does not exist"}, {}
    if path.is_file():
        stat = path.stat()
        pin: Pin = {"kind": "file", "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        if stat.st_size <= HASH_LIMIT:
            pin["sha256"] = _sha256(path)
        pin["fingerprint"] = pin.get("sha256") or f"{stat.st_size}:{stat.st_mtime_ns}"
        return pin, {"files": 1, "bytes": stat.st_size, **describe([path])}
    entries = list(walk(path))
    listing = {rel: f"{stat.st_size}:{stat.st_mtime_ns}" for rel, stat, _ in entries}
    total = sum(stat.st_size for _, stat, _ in entries)
    meta = {"files": len(entries), "bytes": total, **describe(p for _, _, p in entries)}
    return _listing_pin("dir", listing), meta


def _listing_pin(kind: str, listing: dict[str, str]) -> Pin:
    digest = hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()
    pin: Pin = {"kind": kind, "files": len(listing), "fingerprint": f"listing:{digest}"}
    if len(listing) <= LISTED:
        pin["listing"] = listing
    return pin


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
