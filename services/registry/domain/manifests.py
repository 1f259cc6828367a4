"""File manifests of versions: their digest, checks, and what changed between two of them."""

import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shared.events import DatasetChanges, FileEntry
from shared.manifest import digest as digest  # the CLI computes the same one

LISTED = 100  # paths named per kind of change in an event; the counts are always complete
PART_BYTES = 255  # the longest file name most file systems take (ext4, XFS, APFS, NTFS)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ValueError):
    """A manifest that cannot describe a version; the message names the file."""


def check(files: Iterable[FileEntry]) -> list[FileEntry]:
    """Relative, '/'-separated, unique paths, sorted."""
    seen: set[str] = set()
    for entry in files:
        path = entry.path
        normal = posixpath.normpath(path)
        if not path or path.startswith("/") or "\\" in path or normal != path or normal == ".":
            raise ManifestError(f"file path {path!r} must be relative and normalised (a/b.csv)")
        if normal.split("/")[0] == "..":
            raise ManifestError(f"file path {path!r} points outside the version")
        if CONTROL.search(path):
            raise ManifestError(f"file path {path!r} holds a control character")
        if long := [part for part in path.split("/") if _bytes(part) > PART_BYTES]:
            raise ManifestError(f"file name {long[0][:40]!r}… is longer than {PART_BYTES} bytes")
        if path in seen:
            raise ManifestError(f"file path {path!r} appears twice")
        seen.add(path)
    return sorted(files, key=lambda entry: entry.path)


def _bytes(part: str) -> int:
    return len(part.encode(errors="surrogatepass"))


def summary(files: Iterable[FileEntry]) -> dict[str, int]:
    """The metadata every managed version has: file count and total size."""
    count = total = 0
    for entry in files:
        count += 1
        total += entry.size
    return {"files": count, "bytes": total}


def diff(
    before: Mapping[str, str], after: Mapping[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """(added, removed, modified) paths between two {path: signature} maps, sorted."""
    added = sorted(p for p in after if p not in before)
    removed = sorted(p for p in before if p not in after)
    modified = sorted(p for p, sig in after.items() if p in before and before[p] != sig)
    return added, removed, modified


def changes(
    before: Mapping[str, str] | None,
    after: Mapping[str, str] | None,
    before_meta: Mapping[str, Any],
    after_meta: Mapping[str, Any],
) -> DatasetChanges:
    """What a trigger can decide on: file changes (when both listings are known), size and rows.

    With no previous version everything is added; without listings only deltas are known.
    """
    counts: dict[str, Any] = {}
    if after is not None and before is not None and _hashed(before) == _hashed(after):
        added, removed, modified = diff(before, after)
        counts = {
            "files_added": len(added),
            "files_removed": len(removed),
            "files_modified": len(modified),
            "added": added[:LISTED],
            "removed": removed[:LISTED],
            "modified": modified[:LISTED],
        }
    return DatasetChanges(
        **counts,
        bytes_delta=_delta(before_meta, after_meta, "bytes"),
        rows_delta=_delta(before_meta, after_meta, "rows"),
    )


def _hashed(listing: Mapping[str, str]) -> bool:
    """Whether a listing signs its files by sha256 (managed versions, hashed file:// data)
    rather than by size and ETag (S3): only listings signed alike are compared."""
    return all(SHA256.match(signature) for signature in listing.values())


def _delta(before: Mapping[str, Any], after: Mapping[str, Any], key: str) -> int | None:
    old, new = before.get(key), after.get(key)
    if isinstance(new, int) and isinstance(old, int):
        return new - old
    return None


def signatures(files: Iterable[FileEntry]) -> dict[str, str]:
    return {entry.path: entry.sha256 for entry in files}


KINDS_BY_SUFFIX = {
    "image": (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"),
    "audio": (".wav", ".mp3", ".flac", ".ogg", ".m4a"),
    "video": (".mp4", ".avi", ".mov", ".mkv", ".webm"),
    "text": (".txt", ".json", ".jsonl", ".md", ".xml", ".html"),
    "table": (".csv", ".tsv", ".parquet", ".pq", ".feather", ".arrow"),
}


def guess_type(paths: Iterable[str], metadata: Mapping[str, Any]) -> str:
    """The dataset type most of its files suggest (table if columns were found)."""
    if metadata.get("columns"):
        return "table"
    votes: dict[str, int] = {}
    for path in paths:
        lower = path.lower()
        for kind, suffixes in KINDS_BY_SUFFIX.items():
            if lower.endswith(suffixes):
                votes[kind] = votes.get(kind, 0) + 1
    return max(votes, key=lambda k: votes[k]) if votes else "other"
