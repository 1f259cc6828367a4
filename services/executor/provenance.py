"""Code provenance: when the command runs from a git checkout, its URL, branch, commit and
whether the tree is dirty."""

import asyncio
import os
from pathlib import Path
from typing import Any


async def of_command(command: list[str], cwd: Path | None = None) -> dict[str, Any]:
    """The git checkout holding the program or a path it is given; {} if none does."""
    for place in _candidates(command, cwd):
        top = await _git(place, "rev-parse", "--show-toplevel")
        if top:
            return await _describe(Path(top), place)
    return {}


def _candidates(command: list[str], cwd: Path | None) -> list[Path]:
    places = []
    # Arguments first: `python /repo/train.py` is the repo's code, not the interpreter's.
    for part in [*command[1:], command[0]]:
        if not part or len(part) > 1024 or "\n" in part or "\0" in part:
            continue  # code given inline (python -c …), not a path
        path = Path(part) if os.path.isabs(part) else None
        if path is None and cwd is not None and part and not part.startswith("-"):
            path = cwd / part
        try:
            if path is not None and path.exists():
                places.append(path if path.is_dir() else path.parent)
        except OSError:
            continue
    return places


async def _describe(top: Path, place: Path) -> dict[str, Any]:
    commit = await _git(top, "rev-parse", "HEAD")
    if not commit:
        return {}
    status = await _git(top, "status", "--porcelain", "--untracked-files=no")
    return {
        "repo": await _git(top, "config", "--get", "remote.origin.url") or str(top),
        "branch": await _git(top, "rev-parse", "--abbrev-ref", "HEAD"),
        "commit": commit,
        "dirty": bool(status),
        "path": place.relative_to(top).as_posix() if place != top else ".",
    }


async def _git(where: Path, *args: str) -> str:
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(where),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 10)
    except (OSError, TimeoutError):
        return ""
    return out.decode(errors="replace").strip() if process.returncode == 0 else ""
