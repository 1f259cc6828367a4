"""The runs' work dirs: one private directory per stack, outside its home. An attempt's dir
is removed once its run's outputs and log are archived; one that failed is kept
`keep_failed_workdirs_s` for debugging, then a sweep removes it.

A kept dir holds the marker ENDED, whose modification time is when its attempt ended."""

import contextlib
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from services.executor import contract
from services.executor.contract import Layout
from shared.events import RunDispatched

log = logging.getLogger(__name__)
ENDED = ".ended"


def lay_out(host: Layout, run: RunDispatched) -> None:
    """An attempt's dirs and params file (see contract.py), under host.root."""
    for part in (host.inputs, host.outputs, host.work, host.sdk):
        Path(part).mkdir(parents=True, exist_ok=True)
    for name in run.outputs:
        Path(host.outputs, name).mkdir(exist_ok=True)
    Path(host.params).write_text(contract.params_json(run.params))


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


def remove_workdir(root: Path) -> None:
    """The one cleanup of an attempt's dir (wherever it lies): all of it, then its run's
    folder once no attempt is left in it."""
    try:
        shutil.rmtree(root)
    except FileNotFoundError:
        pass
    except OSError as err:  # the next sweep tries again if it was kept
        log.warning("could not remove the work dir %s: %s", root, err)
        return
    with contextlib.suppress(OSError):  # another attempt of the run is still there
        root.parent.rmdir()


def keep(root: Path) -> None:
    """Mark an ended attempt's dir, if there is one, as kept (for debugging) from now on."""
    if root.is_dir():
        (root / ENDED).touch()


def due(ended_at: float, now: float, keep_s: float) -> bool:
    return now - ended_at >= keep_s


def kept(workdirs: Path) -> Iterator[tuple[Path, float]]:
    """(attempt dir, when it ended) of every kept dir under `workdirs`."""
    for marker in workdirs.glob(f"*/attempt-*/{ENDED}"):
        try:
            yield marker.parent, marker.stat().st_mtime
        except FileNotFoundError:
            continue  # removed meanwhile


def sweep(workdirs: Path, now: float, keep_s: float) -> list[Path]:
    """Remove the kept dirs whose time is up; returns them."""
    removed = [root for root, ended_at in kept(workdirs) if due(ended_at, now, keep_s)]
    for root in removed:
        remove_workdir(root)
    return removed
