"""A cgroup v2 per local run, when the host delegates one: memory.max and cpu.max."""

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from shared.events import Resources

log = logging.getLogger(__name__)
PERIOD_US = 100_000


def usable(root: Path = Path("/sys/fs/cgroup")) -> Path | None:
    """`root/boxops` if root is a writable cgroup v2 hierarchy with memory and cpu, else None."""
    try:
        controllers = (root / "cgroup.controllers").read_text().split()
        if not {"memory", "cpu"} <= set(controllers):
            return None
        parent = root / "boxops"
        parent.mkdir(exist_ok=True)
        (root / "cgroup.subtree_control").write_text("+memory +cpu")
        (parent / "cgroup.subtree_control").write_text("+memory +cpu")
    except OSError:
        return None
    return parent


@dataclass(frozen=True)
class Cgroup:
    path: Path

    @classmethod
    def create(cls, parent: Path | None, run_id: str, resources: Resources) -> "Cgroup | None":
        if parent is None:
            return None
        path = parent / run_id
        try:
            path.mkdir(exist_ok=True)
            if resources.memory_mb:
                (path / "memory.max").write_text(str(resources.memory_mb * 1024 * 1024))
            if resources.cpu:
                (path / "cpu.max").write_text(f"{int(resources.cpu * PERIOD_US)} {PERIOD_US}")
        except OSError as err:
            log.warning("no cgroup for run %s: %s", run_id, err)
            return None
        return cls(path)

    def join(self) -> None:
        """In the child before exec: move this process into the cgroup."""
        fd = os.open(self.path / "cgroup.procs", os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            (self.path / "cgroup.kill").write_text("1")

    async def remove(self) -> None:
        for _ in range(50):  # the kernel frees it once its last process is reaped
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                await asyncio.sleep(0.02)
        log.warning("cgroup %s still busy; left in place", self.path)
