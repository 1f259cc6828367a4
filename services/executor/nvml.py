"""The one module that speaks NVML (NVIDIA's `nvidia-ml-py`): the GPUs of this machine, or
none where the driver or library is missing (said once in the log)."""

import logging

import pynvml

from services.executor.devices import Device, GpuUse

log = logging.getLogger(__name__)
MB = 1024 * 1024


class NvmlDevices:
    """The DeviceList port over NVML."""

    def devices(self) -> list[Device]:
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as err:
            log.info("no GPUs: NVML is not available (%s)", err)
            return []
        try:
            return [self._device(i) for i in range(pynvml.nvmlDeviceGetCount())]
        finally:
            pynvml.nvmlShutdown()

    @staticmethod
    def _device(index: int) -> Device:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        return Device(
            id=str(index),
            uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
            name=_text(pynvml.nvmlDeviceGetName(handle)),
            memory_mb=int(memory.total) // MB,
        )


class NvmlMeter:
    """The GpuMeter port over NVML: utilisation, memory used and power of given devices."""

    def __init__(self) -> None:
        self.ready: bool | None = None  # NVML initialised; None: not tried yet

    def use(self, ids: list[str]) -> list[GpuUse]:
        if self.ready is None:
            try:
                pynvml.nvmlInit()
                self.ready = True
            except pynvml.NVMLError:
                self.ready = False  # detection has said so in the log already
        if not self.ready:
            return []
        found = []
        for id in ids:
            try:
                found.append(_use(id))
            except (pynvml.NVMLError, ValueError) as err:
                log.debug("no NVML reading of GPU %s: %s", id, err)
        return found


def _use(id: str) -> GpuUse:
    handle = pynvml.nvmlDeviceGetHandleByIndex(int(id))
    return GpuUse(
        id=id,
        utilization_percent=float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu),
        memory_used_mb=int(pynvml.nvmlDeviceGetMemoryInfo(handle).used) / MB,
        power_w=pynvml.nvmlDeviceGetPowerUsage(handle) / 1000,  # from milliwatts
    )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
