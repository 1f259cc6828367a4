"""Collecting what a run wrote under outputs/<name>/, refusing anything that could smuggle
a host file out: symlinks leading outside the output, hard links, special files."""

import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


class OutputRefused(Exception):
    """An output holds something that must not be uploaded; the text says what."""


@dataclass
class Collected:
    files: list[tuple[str, Path]] = field(default_factory=list)  # ('/'-path, host file)


def collect(root: Path, name: str) -> Collected:
    """The regular files of one output, each with its relative path; raises OutputRefused."""
    top = root / name
    _real_dir(root, "$BOXOPS_OUTPUTS")
    if not os.path.lexists(top):
        return Collected()
    _real_dir(top, f"output {name!r}")
    found = Collected()
    for directory, dirs, files in os.walk(top, followlinks=False):
        for entry in sorted([*dirs, *files]):
            path = Path(directory) / entry
            relative = path.relative_to(top).as_posix()
            info = path.lstat()
            if stat.S_ISDIR(info.st_mode):
                continue
            found.files.append((relative, _readable(top, path, relative, info, name)))
    found.files.sort()
    return found


def _real_dir(path: Path, what: str) -> None:
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise OutputRefused(f"{what} was replaced by something that is not a directory")


def _readable(top: Path, path: Path, relative: str, info: os.stat_result, name: str) -> Path:
    where = f"output {name!r}: {relative}"
    if stat.S_ISLNK(info.st_mode):
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(top)):
            raise OutputRefused(f"{where} is a symlink leading outside the output ({target})")
        info = target.lstat()
        path = target
    if not stat.S_ISREG(info.st_mode):
        raise OutputRefused(f"{where} is not a regular file")
    if info.st_nlink > 1:
        raise OutputRefused(f"{where} is a hard link shared with a file elsewhere")
    return path


def metrics_of(collected: Collected) -> dict[str, float]:
    """Numbers in the JSON files of a `metrics` output: {"acc": 0.93, …}."""
    found: dict[str, float] = {}
    for relative, path in collected.files:
        if not relative.endswith(".json"):
            continue
        try:
            document = json.loads(path.read_bytes()[: 1024 * 1024])
        except ValueError:
            continue
        if isinstance(document, dict):
            found.update(
                {
                    str(k): float(v)
                    for k, v in document.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                }
            )
    return found
