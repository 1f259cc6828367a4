"""A real small disk for tests of a full or read-only store: a tmpfs of a few MiB."""

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str = "5m") -> Iterator[Path]:
    """`folder` (made if need be) as a tmpfs of `size`, unmounted afterwards; the test is
    skipped, saying why, where mounting is not permitted (not root)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
