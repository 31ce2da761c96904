"""NVIDIA GPUs through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``).

NVML is the library ``nvidia-smi`` uses: a call costs microseconds and needs no CUDA
context, so reading it every second costs nothing measurable. A machine without the
NVIDIA driver (a laptop, Apple silicon, a CI runner) simply has no GPU entries: the first
failure to start NVML is logged once at debug level and the sampler stays off.
"""

from __future__ import annotations

import importlib
import logging
import threading
from types import ModuleType
from typing import Any

from seisproc.monitoring.snapshot import GpuStats

__all__ = ["NvmlGpus"]

log = logging.getLogger(__name__)


class NvmlGpus:
    """Reads every NVIDIA GPU's utilisation, memory and temperature.

    Parameters
    ----------
    nvml
        The ``pynvml`` module, or a stand-in with the same functions (tests); imported on
        first use when ``None``.

    Examples
    --------
    >>> gpus = NvmlGpus()
    >>> isinstance(gpus.read(), tuple)     # () on a machine without an NVIDIA driver
    True
    >>> gpus.close()
    """

    def __init__(self, nvml: ModuleType | Any | None = None) -> None:
        self._nvml: Any = nvml
        self._handles: list[Any] | None = None
        """``None`` before the first read; ``[]`` when NVML is unavailable."""
        self._started = False
        self._lock = threading.Lock()

    def read(self) -> tuple[GpuStats, ...]:
        """One entry per GPU; ``()`` without a driver. Never raises."""
        with self._lock:
            if self._handles is None:
                self._handles = self._start()
            return tuple(stats for i, handle in enumerate(self._handles)
                         if (stats := self._read_one(i, handle)) is not None)

    def _start(self) -> list[Any]:
        try:
            nvml = self._nvml or importlib.import_module("pynvml")
            nvml.nvmlInit()
            self._nvml, self._started = nvml, True
            return [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
        except Exception as exc:  # ImportError, NVMLError_LibraryNotFound, DriverNotLoaded...
            log.debug("no NVIDIA GPU readings: %s", exc)
            self._nvml = None
            return []

    def _read_one(self, index: int, handle: Any) -> GpuStats | None:
        nvml = self._nvml
        try:
            utilization = nvml.nvmlDeviceGetUtilizationRates(handle)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            name = nvml.nvmlDeviceGetName(handle)
        except Exception as exc:  # a GPU fallen off the bus; the others still count
            log.debug("GPU %d unreadable: %s", index, exc)
            return None
        try:
            temperature: float | None = float(
                nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        except Exception:  # not every board reports it
            temperature = None
        return GpuStats(index=index, name=name.decode() if isinstance(name, bytes) else str(name),
                        utilization_percent=float(utilization.gpu),
                        memory_used_bytes=int(memory.used), memory_total_bytes=int(memory.total),
                        temperature_c=temperature)

    def close(self) -> None:
        """Release NVML (if it was started)."""
        with self._lock:
            if self._started and self._nvml is not None:
                try:
                    self._nvml.nvmlShutdown()
                except Exception as exc:
                    log.debug("nvmlShutdown failed: %s", exc)
            self._handles, self._started = None, False
