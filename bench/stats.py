"""Figures: percentiles and a printed table; a process's CPU time."""

import os
import statistics
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (
        f"{name:<40} n={len(ms):<5} p50={percentile(ms, 50):8.1f} ms  "
        f"p99={percentile(ms, 99):8.1f} ms  mean={statistics.fmean(ms):8.1f} ms"
    )


def cpu_s(pid: int) -> float:
    """CPU time (user + system) the process has used so far (from /proc: Linux only)."""
    return sum(user_system_s(pid))


def user_system_s(pid: int) -> tuple[float, float]:
    """The process's user and system CPU time so far (from /proc: Linux only)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick
