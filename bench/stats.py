"""Figures: percentiles and a printed table."""

import statistics


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
