"""The runs' work dirs: one private directory per stack, outside its home."""

import os
import stat
from pathlib import Path


class WorkRootError(RuntimeError):
    """The work dirs' root is not private to this executor's user."""


def private_dir(path: Path) -> Path:
    """path, created 0700; one already there must be our own directory that only we can enter
    (in a shared temp dir, another user could have made it first)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise WorkRootError(
            f"{path} must be a directory of uid {os.getuid()} that only it can enter (mode 0700); "
            "remove it or set BOXOPS_WORK_ROOT"
        )
    return path
