"""Materialising a run's inputs under inputs/<name>/: managed versions downloaded once per
digest into the executor's cache and hard-linked (read-only); external file:// URIs linked
(or mounted, in a container); any other URI handed over as BOXOPS_INPUT_<NAME>_URI.

The cache is bounded: past its size, the least recently used inputs go (`cache_bound.py`),
never one an attempt that runs now uses. A cached file's stamp (`<digest>.stat`) is touched
at each use: its time is the input's last use, across restarts."""

import asyncio
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlparse

from services.executor.cache_bound import Cached, to_evict
from shared.events import FileEntry, InputRef

DIGEST_CHARS = 64  # a sha256 in hex


class BlobStore(Protocol):
    """The artifact store as the executor uses it (services/executor/blobs.py)."""

    async def get(self, sha256: str, dest: Path) -> None:
        """Download a blob to dest, checking its digest; raises on any mismatch."""

    async def put(self, path: Path, name: str, media_type: str | None = None) -> FileEntry:
        """Upload a file under a name; its digest and size as stored."""

    async def put_many(self, files: list[tuple[str, Path]]) -> list[FileEntry]:
        """Upload (name, file) pairs concurrently; entries in the order given."""

    async def bind(self, key: str, sha256: str) -> None:
        """Name a stored blob, e.g. runs/<run id>/logs.jsonl."""

    async def close(self) -> None: ...


class InputError(Exception):
    """An input cannot be materialised; the text is the failed run's reason."""


@dataclass
class Materialised:
    uris: dict[str, str] = field(default_factory=dict)  # name → external URI
    mounts: dict[str, Path] = field(default_factory=dict)  # name → external host path


class Inputs:
    def __init__(self, cache: Path, blobs: BlobStore | None, max_bytes: int | None = None) -> None:
        self.cache = cache
        self.blobs = blobs
        self.max_bytes = max_bytes  # None: unbounded
        self.locks: dict[str, asyncio.Lock] = {}  # one download per digest at a time
        self.in_use: dict[str, set[str]] = {}  # attempt → the digests it uses

    async def materialise(
        self, inputs: dict[str, InputRef], root: Path, *, local: bool, by: str = ""
    ) -> Materialised:
        """Lay the inputs out under root, for the attempt `by` (its inputs stay cached until
        it is released). A local run could write through a hard link to the cache (it runs
        as the executor's user), so it gets copies; a container gets hard links, mounted
        read-only."""
        digests = {entry.sha256 for ref in inputs.values() for entry in ref.files}
        self.in_use.setdefault(by, set()).update(digests)
        done = Materialised()
        for name, ref in inputs.items():
            target = root / name
            if ref.uri and not ref.files:
                done.uris[name] = ref.uri
                path = _local_path(ref.uri)
                if path is not None and local:
                    await asyncio.to_thread(_link_dir, path, target)
                    continue
                if path is not None:
                    done.mounts[name] = path
                await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
                continue
            for entry in ref.files:
                await self._file(name, entry, target, copy=local)
        return done

    def release(self, by: str) -> None:
        """The attempt has ended: its inputs may leave the cache."""
        self.in_use.pop(by, None)

    async def _file(self, name: str, entry: FileEntry, target: Path, *, copy: bool) -> None:
        dest = target / _relative(name, entry.path)
        cached = await self._cached(name, entry)
        await asyncio.to_thread(_place, cached, dest, copy)

    async def _cached(self, name: str, entry: FileEntry) -> Path:
        path = self.cache / entry.sha256
        async with self.locks.setdefault(entry.sha256, asyncio.Lock()):
            if await asyncio.to_thread(_intact, path):
                await asyncio.to_thread(os.utime, _stamp(path))  # used now
                return path
            if self.blobs is None:
                raise InputError(f"input {name!r}: no artifact store to download from")
            partial = path.with_suffix(f".{os.getpid()}.part")
            await asyncio.to_thread(self.cache.mkdir, parents=True, exist_ok=True)
            try:
                await self.blobs.get(entry.sha256, partial)
            except Exception as err:
                await asyncio.to_thread(partial.unlink, missing_ok=True)
                raise InputError(f"input {name!r}: cannot fetch {entry.path}: {err}") from err
            await asyncio.to_thread(_seal, partial, path)
        await self._bound()
        return path

    async def _bound(self) -> None:
        """Evict the least recently used inputs not in use until the cache fits its bound."""
        if self.max_bytes is None:
            return
        cached = await asyncio.to_thread(_listing, self.cache)
        in_use = set().union(*self.in_use.values())
        for digest in to_evict(cached, in_use=in_use, max_bytes=self.max_bytes):
            async with self.locks.setdefault(digest, asyncio.Lock()):
                if not any(digest in digests for digests in self.in_use.values()):
                    await asyncio.to_thread(_evict, self.cache / digest)


def _relative(name: str, path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise InputError(f"input {name!r}: file path {path!r} escapes its directory")
    return relative


def _local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def _link_dir(path: Path, target: Path) -> None:
    if not path.exists():
        raise InputError(f"external input {path} does not exist on this executor")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(path)


def _seal(partial: Path, path: Path) -> None:
    partial.chmod(0o444)  # runs get hard links to it: none may change the cached copy
    partial.replace(path)
    info = path.stat()
    _stamp(path).write_text(f"{info.st_size} {info.st_mtime_ns}")


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".stat")


def _intact(path: Path) -> bool:
    """Cached and unchanged since it was checked; a run as root could still have written
    through its hard link despite 0444, and then the copy is fetched again."""
    try:
        info = path.stat()
        if _stamp(path).read_text() == f"{info.st_size} {info.st_mtime_ns}":
            return True
    except (OSError, ValueError):
        return False
    path.unlink(missing_ok=True)
    return False


def _listing(cache: Path) -> list[Cached]:
    """The cached inputs (a file named by its digest each), with their sizes and last use."""
    listed = []
    for path in cache.glob("*"):
        if len(path.name) != DIGEST_CHARS or not path.is_file():
            continue  # a stamp or a partial download
        try:
            size = path.stat().st_size
            used_at = _stamp(path).stat().st_mtime
        except OSError:
            continue  # gone meanwhile, or never sealed
        listed.append(Cached(path.name, size, used_at))
    return listed


def _evict(path: Path) -> None:
    path.unlink(missing_ok=True)
    _stamp(path).unlink(missing_ok=True)


def _place(cached: Path, dest: Path, copy: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not copy:
        try:
            os.link(cached, dest)
            return
        except OSError:
            pass  # another file system: a copy instead
    shutil.copyfile(cached, dest)  # copy_file_range: a reflink where the file system can
    dest.chmod(0o444)
