"""The digest of a file manifest: the same files (path, size, sha256) give the same digest,
whoever computes it (the CLI before a push, the registry when it records a version)."""

import hashlib
from collections.abc import Iterable

from shared.events import FileEntry


def digest(files: Iterable[FileEntry]) -> str:
    h = hashlib.sha256()
    for entry in sorted(files, key=lambda e: e.path):
        h.update(f"{entry.path}\t{entry.size}\t{entry.sha256}\n".encode())
    return "sha256:" + h.hexdigest()
