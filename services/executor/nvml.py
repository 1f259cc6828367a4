"""The one module that speaks NVML (NVIDIA's `nvidia-ml-py`): the GPUs of this machine, or
none where the driver or library is missing (said once in the log)."""

import logging

import pynvml

from services.executor.devices import Device

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


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
