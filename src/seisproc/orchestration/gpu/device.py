"""The torch device a GPU worker runs on: opening it, moving gathers, its memory figures.

:class:`TorchDevice` is the :class:`~seisproc.processing.device.ArrayBackend` a GPU
worker's unit processor moves gathers through, on CUDA, Apple's MPS or torch's CPU device
(the tests' and the benchmark's stand-in for a GPU). It also knows how much memory a batch
may plan for (the free memory, or the budget of :data:`BUDGET_ENV`), how to recognise the
device running out of it, and reports the figures the resource monitor shows
(:class:`DeviceMemory`). torch is imported when a device is opened, never at import.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seisproc.errors import SeisprocError
from seisproc.orchestration.cluster import node_id
from seisproc.processing.device import DeviceError, WorkerKind

__all__ = [
    "FREE_MEMORY_SHARE",
    "BUDGET_ENV",
    "parse_bytes",
    "budget_from_env",
    "import_torch",
    "DeviceMemoryExhausted",
    "DeviceInfo",
    "DeviceMemory",
    "BatchStats",
    "TorchDevice",
]

FREE_MEMORY_SHARE = 0.8
"""Share of the device's free memory a batch may plan for: the rest is headroom for the
allocator's fragmentation and for other processes on the GPU."""

BUDGET_ENV = "SEISPROC_GPU_MEMORY_BUDGET"
"""Environment variable capping a GPU worker's device memory: bytes, or ``512M``, ``2G``."""


class DeviceMemoryExhausted(MemoryError):
    """A batch would exceed the worker's device memory budget (the CPU device's stand-in
    for CUDA's out-of-memory error, handled the same way)."""


def parse_bytes(text: str) -> int:
    """``"1048576"``, ``"512M"``, ``"2G"`` (binary units) as a number of bytes."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = units.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in units else value
    try:
        return int(float(number) * scale)
    except ValueError:
        raise SeisprocError(
            f"{BUDGET_ENV}={text!r}: give bytes, or a number with K, M or G, e.g. 512M"
        ) from None


def budget_from_env() -> int | None:
    """The memory budget set by :data:`BUDGET_ENV`, ``None`` if unset."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    return parse_bytes(text) if text else None


def import_torch() -> Any:
    """torch, or a :class:`DeviceError` saying how to get it."""
    try:
        import torch
    except ImportError:
        raise DeviceError(
            f"GPU workers run on torch, which is not installed on node "
            f"{node_id()}: pip install 'seisproc[gpu]'"
        ) from None
    return torch


@dataclass(frozen=True)
class DeviceInfo:
    """What :meth:`GpuWorkerActor.initialize_gpu` found."""

    kind: WorkerKind
    name: str
    index: int | None
    total_bytes: int | None
    torch_version: str
    node: str


@dataclass(frozen=True)
class DeviceMemory:
    """One GPU worker's device memory and batching figures, for the resource monitor.

    Byte figures the device cannot give are ``None`` (all of them on the CPU device, the
    budget aside).
    """

    node: str
    kind: WorkerKind
    index: int | None
    name: str
    total_bytes: int | None = None
    free_bytes: int | None = None
    allocated_bytes: int | None = None
    """Held by live tensors now."""
    reserved_bytes: int | None = None
    """Held by torch's caching allocator (allocated plus cached)."""
    peak_allocated_bytes: int | None = None
    budget_bytes: int | None = None
    batches: int = 0
    oom_splits: int = 0
    """Batches that ran out of memory and were split."""
    host_fallbacks: int = 0
    """Single traces that did not fit and were processed on the host."""
    largest_batch_bytes: int = 0
    """Largest estimated working set of a batch that went through."""

    @property
    def used_bytes(self) -> int | None:
        """What the worker holds on the device: torch's reserved bytes (live tensors and
        the allocator's cached blocks), else its live tensors."""
        return self.reserved_bytes if self.reserved_bytes is not None else self.allocated_bytes

    @property
    def used_percent(self) -> float | None:
        """Share of the device's memory in use, ``None`` where unknown."""
        if self.total_bytes is None or self.free_bytes is None or not self.total_bytes:
            return None
        return 100.0 * (self.total_bytes - self.free_bytes) / self.total_bytes

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class BatchStats:
    """Counters of one worker's batches (written by its work thread only)."""

    batches: int = 0
    oom_splits: int = 0
    host_fallbacks: int = 0
    largest_batch_bytes: int = 0


def _torch_device(torch: Any, kind: WorkerKind) -> Any:
    """The torch device of ``kind``, refused with a clear message if it is not there."""
    if kind == "cuda":
        if not torch.cuda.is_available():
            visible = os.environ.get("CUDA_VISIBLE_DEVICES", "(unset)")
            raise DeviceError(
                f"node {node_id()} gave this worker a GPU, but torch {torch.__version__} sees "
                f"no CUDA device (CUDA_VISIBLE_DEVICES={visible}): install a CUDA build of "
                "torch on every GPU node"
            )
        return torch.device("cuda", torch.cuda.current_device())
    if kind == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError(
                f"node {node_id()} declares Apple Metal, but torch "
                f"{torch.__version__} cannot use MPS here"
            )
        return torch.device("mps")
    return torch.device("cpu")


class TorchDevice:
    """One torch device: transfers, memory figures, out-of-memory recognition.

    An :class:`~seisproc.processing.device.ArrayBackend`.

    Parameters
    ----------
    kind
        ``cuda``, ``mps`` or ``cpu``.
    budget_bytes
        Device memory a batch may use at most; ``None``: the device's free memory (no
        limit on the CPU device).
    """

    def __init__(self, kind: WorkerKind, budget_bytes: int | None = None) -> None:
        self.torch = import_torch()
        self.kind: WorkerKind = kind
        self.device = _torch_device(self.torch, kind)
        self.budget_bytes = budget_bytes

    def to_device(self, host: np.ndarray) -> Any:
        """``host`` as a float32 tensor on the device (shared memory on the CPU device)."""
        host = np.ascontiguousarray(host, dtype=np.float32)
        if not host.flags.writeable:  # read-only from Ray's object store: torch warns
            host = host.copy()
        tensor = self.torch.from_numpy(host)
        return tensor if self.kind == "cpu" else tensor.to(self.device)

    def to_host(self, data: Any) -> np.ndarray:
        """``data`` (a tensor on the device) as float32 numpy."""
        if isinstance(data, np.ndarray):
            return np.asarray(data, dtype=np.float32)
        return np.asarray(data.detach().to("cpu").numpy(), dtype=np.float32)

    def concat(self, parts: Sequence[Any]) -> Any:
        """Tensors on the device stacked along traces."""
        return parts[0] if len(parts) == 1 else self.torch.cat(list(parts), dim=0)

    def synchronize(self) -> None:
        """Wait for the device's queued work (timing needs it; transfers back imply it)."""
        if self.kind == "cuda":
            self.torch.cuda.synchronize(self.device)
        elif self.kind == "mps":
            self.torch.mps.synchronize()

    def warm_up(self) -> None:
        """Create the device context and the FFT plans' libraries before the first unit."""
        x = self.torch.ones((2, 256), dtype=self.torch.float32, device=self.device)
        self.torch.fft.irfft(self.torch.fft.rfft(x), n=256)
        self.synchronize()

    def free_bytes(self) -> int | None:
        """Free device memory now; ``None`` on the CPU device (and older MPS torch)."""
        if self.kind == "cuda":
            return int(self.torch.cuda.mem_get_info(self.device)[0])
        if self.kind == "mps" and hasattr(self.torch.mps, "recommended_max_memory"):
            mps = self.torch.mps
            return max(0, int(mps.recommended_max_memory()) - int(mps.driver_allocated_memory()))
        return None

    def capacity_bytes(self) -> int | None:
        """Working memory a batch may plan for: the budget or a share of free memory."""
        free = self.free_bytes()
        limits = [
            limit
            for limit in (
                self.budget_bytes,
                None if free is None else int(free * FREE_MEMORY_SHARE),
            )
            if limit is not None
        ]
        return min(limits) if limits else None

    def check_budget(self, need_bytes: int) -> None:
        """Raise :class:`DeviceMemoryExhausted` if ``need_bytes`` exceeds the budget."""
        if self.budget_bytes is not None and need_bytes > self.budget_bytes:
            raise DeviceMemoryExhausted(
                f"a batch needs about {need_bytes} bytes of device "
                f"memory; the budget is {self.budget_bytes}"
            )

    def is_out_of_memory(self, exc: BaseException | None) -> bool:
        """Whether ``exc``, or an error it was raised from, is the device out of memory."""
        oom = tuple(
            t
            for t in (
                getattr(self.torch, "OutOfMemoryError", None),
                getattr(self.torch.cuda, "OutOfMemoryError", None),
            )
            if isinstance(t, type)
        )
        while exc is not None:
            if isinstance(exc, (DeviceMemoryExhausted, *oom)):
                return True
            text = str(exc).lower()
            if isinstance(exc, RuntimeError) and (
                "out of memory" in text  # MPS says so
                or "can't allocate memory" in text
            ):  # CPU
                return True
            exc = exc.__cause__
        return False

    def release(self) -> None:
        """Hand cached device memory back to the driver (other jobs, other processes):
        the allocator's cached blocks and, on CUDA, the cuFFT plans' work areas."""
        if self.kind == "cuda":
            self.torch.backends.cuda.cufft_plan_cache[self.device].clear()
            self.torch.cuda.empty_cache()
        elif self.kind == "mps":
            self.torch.mps.empty_cache()

    def info(self) -> DeviceInfo:
        """The device's name, index and size."""
        return DeviceInfo(
            self.kind,
            self._name(),
            self._index(),
            self._figures()[0],
            str(self.torch.__version__),
            node_id(),
        )

    def memory(self, stats: BatchStats | None = None) -> DeviceMemory:
        """Memory figures now, with the batching counters of ``stats``."""
        total, free, allocated, reserved, peak = self._figures()
        counters = dataclasses.asdict(stats or BatchStats())
        return DeviceMemory(
            node_id(),
            self.kind,
            self._index(),
            self._name(),
            total,
            free,
            allocated,
            reserved,
            peak,
            self.budget_bytes,
            **counters,
        )

    def _figures(self) -> tuple[int | None, ...]:
        """Total, free, allocated, reserved and peak-allocated bytes, where known."""
        torch = self.torch
        if self.kind == "cuda":
            free, total = torch.cuda.mem_get_info(self.device)
            return (
                int(total),
                int(free),
                int(torch.cuda.memory_allocated(self.device)),
                int(torch.cuda.memory_reserved(self.device)),
                int(torch.cuda.max_memory_allocated(self.device)),
            )
        if self.kind == "mps":
            free_now = self.free_bytes()
            total = None if free_now is None else int(torch.mps.recommended_max_memory())
            return (
                total,
                free_now,
                int(torch.mps.current_allocated_memory()),
                int(torch.mps.driver_allocated_memory()),
                None,
            )
        return (None, None, None, None, None)

    def _name(self) -> str:
        if self.kind == "cuda":
            return str(self.torch.cuda.get_device_name(self.device))
        return "Apple MPS" if self.kind == "mps" else "CPU (torch)"

    def _index(self) -> int | None:
        """The physical GPU index (Ray narrows CUDA_VISIBLE_DEVICES to the actor's GPU)."""
        if self.kind != "cuda":
            return None
        local = int(self.device.index or 0)
        visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")]
        if local < len(visible) and visible[local].isdigit():
            return int(visible[local])
        return local
