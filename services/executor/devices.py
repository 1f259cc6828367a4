"""The GPUs an executor offers: found through a `DeviceList` port (NVML in production, see
`nvml.py`), or named by `BOXOPS_EXECUTOR_GPUS` (`0,1`, or `none`) where NVML is absent or
only some devices are to be offered."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Device:
    """One GPU: its id as CUDA_VISIBLE_DEVICES names it, and what NVML says of it."""

    id: str
    uuid: str = ""
    name: str = ""
    memory_mb: int = 0


@dataclass(frozen=True)
class GpuUse:
    """What one device is doing now."""

    id: str
    utilization_percent: float
    memory_used_mb: float
    power_w: float


class DeviceList(Protocol):
    def devices(self) -> list[Device]:
        """The GPUs of this machine; none where there is no driver."""


class GpuMeter(Protocol):
    def use(self, ids: list[str]) -> list[GpuUse]:
        """What the devices `ids` are doing now; none it cannot read."""


def offered(override: str | None, found: DeviceList) -> list[Device]:
    """The devices this executor offers: the override's ids (described by what was found,
    where it knows them), else all that were found."""
    if override is None:
        return found.devices()
    ids = [part.strip() for part in override.split(",") if part.strip()]
    if ids == ["none"]:
        return []
    known = {d.id: d for d in found.devices()} if ids else {}
    return [known.get(id, Device(id=id)) for id in ids]
