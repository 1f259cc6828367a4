"""What a run used, from successive readings of its processes: the `system/` metric points of
each reading, and the peaks and totals its end report carries. Pure: readings come in."""

from dataclasses import dataclass

from services.executor.devices import GpuUse
from shared.events import RunUsage

PREFIX = "system/"  # reserved: the executor's own metrics of a run
MB = 1024 * 1024
OOM_NEAR = 0.9  # killed with its last sampled RSS this close to its limit: out of memory


@dataclass(frozen=True)
class Reading:
    """One look at a run's processes, summed over all of them."""

    at: float  # seconds, monotonic
    cpu_s: float  # CPU time so far (user + system)
    rss_bytes: int
    read_bytes: int
    write_bytes: int


@dataclass
class Usage:
    """The totals so far; `add` turns a reading into the points to record."""

    last: Reading
    cpu_s: float = 0.0
    read_bytes: int = 0
    write_bytes: int = 0
    peak_rss_bytes: int = 0
    last_rss_bytes: int = 0
    samples: int = 0
    gpu_s: float = 0.0  # device-seconds weighted by utilisation
    peak_gpu_memory_mb: float = 0.0
    gpu_samples: int = 0

    @classmethod
    def since(cls, at: float) -> "Usage":
        """Nothing used yet, at `at` (the run's start)."""
        return cls(last=Reading(at=at, cpu_s=0.0, rss_bytes=0, read_bytes=0, write_bytes=0))

    def add(self, reading: Reading) -> dict[str, float]:
        """Account for a reading; the metric points it makes, by name."""
        elapsed = reading.at - self.last.at
        # A process that ended takes its counters with it: only growth counts.
        cpu = max(0.0, reading.cpu_s - self.last.cpu_s)
        self.cpu_s += cpu
        self.read_bytes += max(0, reading.read_bytes - self.last.read_bytes)
        self.write_bytes += max(0, reading.write_bytes - self.last.write_bytes)
        self.peak_rss_bytes = max(self.peak_rss_bytes, reading.rss_bytes)
        self.last_rss_bytes = reading.rss_bytes
        self.samples += 1
        self.last = reading
        return {
            f"{PREFIX}cpu_percent": round(100 * cpu / elapsed, 2) if elapsed > 0 else 0.0,
            f"{PREFIX}memory_rss_mb": round(reading.rss_bytes / MB, 2),
            f"{PREFIX}io_read_mb": round(self.read_bytes / MB, 3),
            f"{PREFIX}io_write_mb": round(self.write_bytes / MB, 3),
        }

    def add_gpus(self, uses: list[GpuUse], elapsed: float) -> dict[str, float]:
        """Account for its devices over the `elapsed` seconds since the last reading."""
        if not uses:
            return {}
        self.gpu_s += sum(u.utilization_percent for u in uses) / 100 * max(0.0, elapsed)
        memory = sum(u.memory_used_mb for u in uses)
        self.peak_gpu_memory_mb = max(self.peak_gpu_memory_mb, memory)
        self.gpu_samples += 1
        return {
            f"{PREFIX}gpu_utilization_percent": round(
                sum(u.utilization_percent for u in uses) / len(uses), 2
            ),
            f"{PREFIX}gpu_memory_used_mb": round(memory, 2),
            f"{PREFIX}gpu_power_w": round(sum(u.power_w for u in uses), 2),
        }

    def summary(self, *, oom: bool = False) -> RunUsage:
        gpus = self.gpu_samples > 0
        return RunUsage(
            peak_rss_mb=round(self.peak_rss_bytes / MB, 2),
            last_rss_mb=round(self.last_rss_bytes / MB, 2),
            cpu_seconds=round(self.cpu_s, 3),
            io_read_mb=round(self.read_bytes / MB, 3),
            io_write_mb=round(self.write_bytes / MB, 3),
            samples=self.samples,
            gpu_seconds=round(self.gpu_s, 3) if gpus else None,
            peak_gpu_memory_mb=round(self.peak_gpu_memory_mb, 2) if gpus else None,
            oom_killed=oom,
        )


def out_of_memory(
    *, code: int | None, limit_mb: int, last_rss_mb: float, oom_kills: int = 0
) -> bool:
    """Whether the run was killed for memory: its cgroup counted an OOM kill, or it died of
    SIGKILL with its last sampled RSS at its limit."""
    if oom_kills > 0:
        return True
    killed = code in (-9, 137)
    return killed and limit_mb > 0 and last_rss_mb >= OOM_NEAR * limit_mb


def oom_reason(limit_mb: int, last_rss_mb: float) -> str:
    limit = f"its memory limit of {limit_mb} MiB" if limit_mb else "the memory it had"
    return f"out of memory: killed at {limit} (last sampled RSS {last_rss_mb:.0f} MiB)"
