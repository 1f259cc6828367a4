"""Sampling a live run every `BOXOPS_EXECUTOR_SAMPLE_S`: a local run's leader and every
descendant, read with psutil; a container through its stats (`container_stats.py`). Each
reading becomes `system/` metric points on the run's own recorder, so they travel the path
of the run's own metrics."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psutil

from services.executor.container_stats import ContainerProbe
from services.executor.devices import GpuMeter
from services.executor.usage import Reading, Usage, out_of_memory
from shared.events import RunUsage

log = logging.getLogger(__name__)
Record = Callable[[str, float, int], None]  # (name, value, step) → recorded


@dataclass(frozen=True)
class Gpus:
    """A run's devices, and what reads them (NVML)."""

    ids: list[str]
    meter: GpuMeter


class Probe(Protocol):
    async def read(self) -> Reading | None:
        """The run's usage now; None once it has ended."""


class TreeProbe:
    """A run's process tree from its leader down (a sandboxed run's bwrap and all in it)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.known: dict[int, psutil.Process] = {}  # kept: psutil caches what does not change

    async def read(self) -> Reading | None:
        # A few /proc reads per process: cheaper inline than a hop to a thread.
        return self.now()

    def now(self) -> Reading | None:
        """The tree's sums now; None once its leader has ended."""
        try:
            if self.root.status() == psutil.STATUS_ZOMBIE:
                return None
            tree = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return None
        self.known = {p.pid: self.known.get(p.pid, p) for p in tree}
        cpu, rss, read, written = 0.0, 0, 0, 0
        for process in self.known.values():
            with contextlib.suppress(psutil.Error):  # it ended between the listing and now
                with process.oneshot():
                    times = process.cpu_times()
                    memory = process.memory_info()
                    io = process.io_counters()
                # Its reaped children's time too: a short-lived child is not lost.
                cpu += times.user + times.system + times.children_user + times.children_system
                rss += memory.rss
                read += io.read_bytes
                written += io.write_bytes
        return Reading(
            at=time.monotonic(), cpu_s=cpu, rss_bytes=rss, read_bytes=read, write_bytes=written
        )


async def sample_forever(
    probe: Probe, usage: Usage, record: Record, every_s: float, gpus: Gpus | None = None
) -> None:
    """Read the run (and its GPUs) every `every_s` and record the points, until cancelled
    or it ends."""
    while True:
        await asyncio.sleep(every_s)
        reading = await probe.read()
        if reading is None:
            return
        since = usage.last.at
        points = usage.add(reading)
        if gpus:
            points |= usage.add_gpus(gpus.meter.use(gpus.ids), reading.at - since)
        for name, value in points.items():
            record(name, value, usage.samples)


def probe_of(running: Any) -> Probe | None:
    """A local run's probe (by its leader's pid) or a container's; None for another kind."""
    container = getattr(running, "container", None)  # the docker backend's DockerRun
    if running.pid is None:
        return ContainerProbe(container) if container is not None else None
    try:
        return TreeProbe(running.pid)
    except psutil.Error:  # it ended already
        return None


class Sampling:
    """A run's sampling from its start to its end; off (nothing recorded) at 0 s."""

    def __init__(
        self, running: Any, record: Record, every_s: float, gpus: Gpus | None = None
    ) -> None:
        self.usage = Usage.since(time.monotonic())
        found = probe_of(running) if every_s > 0 else None
        self.task = (
            asyncio.create_task(sample_forever(found, self.usage, record, every_s, gpus))
            if found
            else None
        )

    async def end(self, code: int | None, memory_mb: int, cgroup: Path | None) -> RunUsage | None:
        """Stop; its summary (None if it was off), out of memory or not."""
        if self.task is None:
            return None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        last_mb = self.usage.last_rss_bytes / (1024 * 1024)
        oom = out_of_memory(
            code=code, limit_mb=memory_mb, last_rss_mb=last_mb, oom_kills=oom_kills(cgroup)
        )
        return self.usage.summary(oom=oom)

    def cancel(self) -> None:
        """Stop without a summary (the attempt failed in the executor)."""
        if self.task is not None:
            self.task.cancel()


def oom_kills(cgroup: Path | None) -> int:
    """The OOM kills its cgroup counted (memory.events); 0 without a cgroup."""
    if cgroup is None:
        return 0
    try:
        for line in (cgroup / "memory.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    except (OSError, ValueError) as err:
        log.warning("no memory events for %s: %s", cgroup, err)
    return 0
