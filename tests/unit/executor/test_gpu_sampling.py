"""A run's GPUs sampled through the GpuMeter port (NVML in production), with a fake meter:
`system/gpu_*` points beside the process tree's, and GPU-seconds and peak GPU memory in the
summary."""

import asyncio
from dataclasses import dataclass, field

from services.executor.devices import GpuUse
from services.executor.sampler import Gpus, Sampling
from services.executor.usage import Usage
from tests.conftest import eventually


@dataclass
class FakeMeter:
    """Each device at half its power, 50 % busy, 1 GiB used; records the ids it was asked."""

    asked: list[list[str]] = field(default_factory=list)

    def use(self, ids: list[str]) -> list[GpuUse]:
        self.asked.append(ids)
        return [GpuUse(id=i, utilization_percent=50, memory_used_mb=1024, power_w=150) for i in ids]


@dataclass
class Leader:
    pid: int | None


def test_two_devices_half_busy_for_two_seconds_are_two_gpu_seconds() -> None:
    usage = Usage.since(0.0)
    uses = FakeMeter().use(["0", "1"])
    points = usage.add_gpus(uses, elapsed=2.0)
    assert points == {
        "system/gpu_utilization_percent": 50,
        "system/gpu_memory_used_mb": 2048,
        "system/gpu_power_w": 300,
    }
    summary = usage.summary()
    assert (summary.gpu_seconds, summary.peak_gpu_memory_mb) == (2.0, 2048)


def test_a_run_without_gpu_readings_has_no_gpu_summary() -> None:
    usage = Usage.since(0.0)
    assert usage.add_gpus([], elapsed=1.0) == {}
    assert usage.summary().gpu_seconds is None


async def test_the_sampler_reads_the_runs_own_devices_beside_its_processes() -> None:
    process = await asyncio.create_subprocess_exec("sleep", "60")
    meter, points = FakeMeter(), []
    try:
        sampling = Sampling(
            Leader(process.pid),
            lambda name, value, step: points.append((name, value)),
            0.05,
            Gpus(["1", "3"], meter),
        )

        async def sampled() -> bool:
            return sum(name == "system/gpu_memory_used_mb" for name, _ in points) >= 3

        await eventually(sampled, timeout=20)
        summary = await sampling.end(None, 512, None)
    finally:
        process.kill()
        await process.wait()
    assert summary is not None
    assert set(map(tuple, meter.asked)) == {("1", "3")}
    assert summary.peak_gpu_memory_mb == 2048
    assert summary.gpu_seconds is not None and summary.gpu_seconds > 0
    assert ("system/gpu_power_w", 300) in points
    assert any(name == "system/memory_rss_mb" for name, _ in points)
