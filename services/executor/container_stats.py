"""A Docker run's usage from its container's stats (aiodocker `container.stats`): the same
readings as a local run's process tree, so its `system/` points and summary are the same."""

import time
from typing import Any, Protocol

from services.executor.usage import Reading


class Stats(Protocol):
    async def stats(self, *, stream: bool) -> Any:
        """The container's stats (a list of one, for stream=False)."""


class ContainerProbe:
    def __init__(self, container: Stats) -> None:
        self.container = container

    async def read(self) -> Reading | None:
        """Its stats now; None once it has stopped (or Docker will not say)."""
        try:
            found = await self.container.stats(stream=False)
        except Exception:
            return None
        return reading_of(found[0] if found else {}, at=time.monotonic())


def reading_of(stats: dict[str, Any], *, at: float) -> Reading | None:
    """A reading from Docker's stats; None for a stopped container's (no memory, no pids)."""
    if not stats.get("memory_stats") or stats.get("pids_stats", {}).get("current") == 0:
        return None
    memory = stats.get("memory_stats", {})
    cache = memory.get("stats", {})
    # As `docker stats` shows it: without the page cache the kernel can drop.
    inactive = cache.get("inactive_file", cache.get("total_inactive_file", 0))
    io = stats.get("blkio_stats", {}).get("io_service_bytes_recursive") or []
    return Reading(
        at=at,
        cpu_s=stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0) / 1e9,
        rss_bytes=max(0, memory.get("usage", 0) - inactive),
        read_bytes=sum(e["value"] for e in io if e.get("op", "").lower() == "read"),
        write_bytes=sum(e["value"] for e in io if e.get("op", "").lower() == "write"),
    )
