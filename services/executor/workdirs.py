"""Work dirs of ended attempts: one removed once its run's outputs and log are archived; one
that failed is kept `keep_failed_workdirs_s` for debugging, then a sweep removes it.

A kept dir holds the marker ENDED, whose modification time is when its attempt ended."""

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
ENDED = ".ended"


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
