"""A run's use of resources beside what it asked for, as `boxops runs show` prints it:
"memory    asked 8 GiB, peak 1.2 GiB" — the hint for sizing the next request."""

from typing import Any


def usage_lines(run: dict[str, Any]) -> list[str]:
    """Lines for a run that was sampled; none for one that was not (or has not ended)."""
    used, asked = run.get("usage"), run.get("resources") or {}
    if not used:
        return []
    lines = [f"memory    asked {size(asked.get('memory_mb', 0))}, peak {size(used['peak_rss_mb'])}"]
    cpu = f"cpu       asked {asked.get('cpu', 0):g}, used {used['cpu_seconds']:.1f} CPU-s"
    if run.get("duration_s"):
        cpu += f" (avg {used['cpu_seconds'] / run['duration_s']:.2f} cores)"
    lines.append(cpu)
    if used.get("gpu_seconds") is not None:
        peak = size(used.get("peak_gpu_memory_mb") or 0)
        lines.append(
            f"gpu       asked {asked.get('gpu', 0)}, used {used['gpu_seconds']:.1f} GPU-s,"
            f" peak memory {peak}"
        )
    lines.append(f"io        read {size(used['io_read_mb'])}, wrote {size(used['io_write_mb'])}")
    if used.get("oom_killed"):
        lines.append(f"killed    out of memory (last sampled RSS {size(used['last_rss_mb'])})")
    return lines


def size(mb: float) -> str:
    """MiB as people read them: 212 MiB, 1.2 GiB, 8 GiB."""
    if mb >= 1024:
        return f"{mb / 1024:.1f}".removesuffix(".0") + " GiB"
    return f"{mb:.0f} MiB"
