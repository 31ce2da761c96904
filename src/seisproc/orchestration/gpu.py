"""GPU workers: the same processors on torch tensors on a CUDA GPU, Apple's MPS or the CPU.

Processors are written once on the array API (design principle 5), so a GPU worker only
differs from a CPU one in where it puts the arrays: :class:`GpuWorkerActor` moves a batch
of gathers to its torch device in one transfer, runs the flow's processors there and moves
the result back in one transfer. Ray places it by resources: ``num_gpus`` for CUDA, the
custom ``metal`` resource for :class:`MetalWorkerActor` (MPS, the Metal GPU of Apple
silicon; a local start declares it, see :func:`~seisproc.orchestration.cluster.
local_resources`). :class:`TorchCpuWorkerActor` runs the very same code on the CPU device:
the tests and the benchmark use it on machines without a GPU.

Device memory. A batch holds as many gathers as fit in the device's free memory (what
``torch.cuda.mem_get_info`` reports, or a configured budget), at an estimated
:data:`WORKING_SET_FACTOR` bytes of working memory per input byte. The estimate can be
wrong, and other processes share the GPU: a batch that runs out of memory (torch's
``OutOfMemoryError``, or the budget exceeded, which is how the tests force it on the CPU
device) is halved and retried; a single gather of a flow of trace-wise processors is split
by traces; a single trace that still does not fit is processed on the host. Cached device
memory is handed back when a job is released.

Units are routed by the flow's ``device`` (``auto``, ``cpu``, ``gpu``) by
:class:`DeviceExecutor`, which keeps a pool of CPU workers and, when the cluster has GPUs,
a pool of GPU workers. torch is imported only inside the functions that need it, so this
module loads (and CPU-only clusters run) without torch.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import ray

from seisproc.errors import FlowError, ProcessingError, SeisprocError
from seisproc.io.segy import SegyLayout
from seisproc.jobs.ports import Completion, JobSpec
from seisproc.jobs.units import GatherInput, GatherRef, UnitProcessor, WorkUnit
from seisproc.orchestration.cluster import cluster_cpus, connect, node_id
from seisproc.orchestration.executor import RayExecutor, WorkerStatus, wait_ready
from seisproc.orchestration.workers import CONTROL, WORK, BaseWorkerActor
from seisproc.processing.base import GatherContext, Processor
from seisproc.processing.device import (
    ClusterDevices,
    DeviceError,
    WorkerKind,
    trace_wise,
    worker_kind,
)
from seisproc.processing.flow import Flow, Step

__all__ = [
    "WORKING_SET_FACTOR",
    "BUDGET_ENV",
    "parse_bytes",
    "budget_from_env",
    "import_torch",
    "DeviceMemoryExhausted",
    "DeviceInfo",
    "DeviceMemory",
    "BatchStats",
    "TorchDevice",
    "Piece",
    "DeviceBatcher",
    "DeviceUnitProcessor",
    "GpuWorkerActor",
    "MetalWorkerActor",
    "TorchCpuWorkerActor",
    "gpu_worker_class",
    "plan_batches",
    "cluster_devices",
    "check_device",
    "DeviceExecutor",
    "device_executor",
]

log = logging.getLogger(__name__)

WORKING_SET_FACTOR = 12
"""Device bytes a flow is assumed to need per byte of input gather.

Counted for the heaviest built-in steps: a bandpass holds the input, its zero-padded
spectrum (complex64, up to twice the trace length) and the inverse transform; a spiking
decon designs in float64. An underestimate is not fatal (the batch is split when it runs
out of memory); :meth:`TorchDevice.memory` reports the peak to check it on a real GPU.
"""

FREE_MEMORY_SHARE = 0.8
"""Share of the device's free memory a batch may plan for: the rest is headroom for the
allocator's fragmentation and for other processes on the GPU."""

BUDGET_ENV = "SEISPROC_GPU_MEMORY_BUDGET"
"""Environment variable capping a GPU worker's device memory: bytes, or ``512M``, ``2G``."""

Apply = Callable[[Any, GatherContext, int], Any]
"""The flow's steps on one array: ``apply(data, context, key_value) -> data``."""


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
        raise SeisprocError(f"{BUDGET_ENV}={text!r}: give bytes, or a number with K, M "
                            "or G, e.g. 512M") from None


def budget_from_env() -> int | None:
    """The memory budget set by :data:`BUDGET_ENV`, ``None`` if unset."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    return parse_bytes(text) if text else None


def import_torch() -> Any:
    """torch, or a :class:`DeviceError` saying how to get it."""
    try:
        import torch
    except ImportError:
        raise DeviceError(f"GPU workers run on torch, which is not installed on node "
                          f"{node_id()}: pip install 'seisproc[gpu]'") from None
    return torch


# ---------------------------------------------------------------------- the device
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
                "torch on every GPU node")
        return torch.device("cuda", torch.cuda.current_device())
    if kind == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError(f"node {node_id()} declares Apple Metal, but torch "
                              f"{torch.__version__} cannot use MPS here")
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
        limits = [limit for limit in (self.budget_bytes,
                                      None if free is None else int(free * FREE_MEMORY_SHARE))
                  if limit is not None]
        return min(limits) if limits else None

    def check_budget(self, need_bytes: int) -> None:
        """Raise :class:`DeviceMemoryExhausted` if ``need_bytes`` exceeds the budget."""
        if self.budget_bytes is not None and need_bytes > self.budget_bytes:
            raise DeviceMemoryExhausted(f"a batch needs about {need_bytes} bytes of device "
                                        f"memory; the budget is {self.budget_bytes}")

    def is_out_of_memory(self, exc: BaseException | None) -> bool:
        """Whether ``exc``, or an error it was raised from, is the device out of memory."""
        oom = tuple(t for t in (getattr(self.torch, "OutOfMemoryError", None),
                                getattr(self.torch.cuda, "OutOfMemoryError", None))
                    if isinstance(t, type))
        while exc is not None:
            if isinstance(exc, (DeviceMemoryExhausted, *oom)):
                return True
            text = str(exc).lower()
            if isinstance(exc, RuntimeError) and ("out of memory" in text  # MPS says so
                                                  or "can't allocate memory" in text):  # CPU
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
        return DeviceInfo(self.kind, self._name(), self._index(), self._figures()[0],
                          str(self.torch.__version__), node_id())

    def memory(self, stats: BatchStats | None = None) -> DeviceMemory:
        """Memory figures now, with the batching counters of ``stats``."""
        total, free, allocated, reserved, peak = self._figures()
        counters = dataclasses.asdict(stats or BatchStats())
        return DeviceMemory(node_id(), self.kind, self._index(), self._name(), total, free,
                            allocated, reserved, peak, self.budget_bytes, **counters)

    def _figures(self) -> tuple[int | None, ...]:
        """Total, free, allocated, reserved and peak-allocated bytes, where known."""
        torch = self.torch
        if self.kind == "cuda":
            free, total = torch.cuda.mem_get_info(self.device)
            return (int(total), int(free), int(torch.cuda.memory_allocated(self.device)),
                    int(torch.cuda.memory_reserved(self.device)),
                    int(torch.cuda.max_memory_allocated(self.device)))
        if self.kind == "mps":
            free_now = self.free_bytes()
            total = None if free_now is None else int(torch.mps.recommended_max_memory())
            return (total, free_now, int(torch.mps.current_allocated_memory()),
                    int(torch.mps.driver_allocated_memory()), None)
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


# ---------------------------------------------------------------------- batches
@dataclass(frozen=True)
class Piece:
    """Traces of one gather (all of them unless a gather was split to fit)."""

    samples: np.ndarray
    offsets_m: np.ndarray | None
    key_value: int

    def halves(self) -> tuple[Piece, Piece]:
        mid = len(self.samples) // 2
        offsets = self.offsets_m
        return (Piece(self.samples[:mid], None if offsets is None else offsets[:mid],
                       self.key_value),
                Piece(self.samples[mid:], None if offsets is None else offsets[mid:],
                       self.key_value))


def plan_batches(sizes: Sequence[int], capacity: int | None) -> list[list[int]]:
    """Consecutive indices of ``sizes`` grouped so each group's sum fits ``capacity``.

    A size over ``capacity`` gets a group of its own (it will be split when it runs out
    of memory); ``capacity=None`` puts everything in one group.
    """
    groups: list[list[int]] = []
    total = 0
    for i, size in enumerate(sizes):
        if groups and (capacity is None or total + size <= capacity):
            groups[-1].append(i)
            total += size
        else:
            groups.append([i])
            total = size
    return groups


def _split_rows(data: np.ndarray, rows: Sequence[int]) -> list[np.ndarray]:
    """``data`` cut along its first axis into consecutive blocks of ``rows`` rows."""
    return list(np.split(data, np.cumsum(rows)[:-1])) if len(rows) > 1 else [data]


class DeviceBatcher:
    """Runs a flow's steps on batches of gathers on a device, splitting what does not fit.

    Parameters
    ----------
    device
        Where the batches go.
    processors
        The flow's processors: if all are trace-wise, a batch is stacked into one array
        (one kernel launch per step for all its gathers) and a lone gather may be split by
        traces; otherwise each gather is processed whole.
    apply
        The steps on one array, naming the gather in its errors.
    sample_interval_ms
        Of the data.
    stats
        Counters to update.
    """

    def __init__(self, device: TorchDevice, processors: Sequence[Processor], apply: Apply,
                 sample_interval_ms: float, stats: BatchStats) -> None:
        self.device = device
        self.trace_wise = trace_wise(processors)
        self.apply = apply
        self.sample_interval_ms = sample_interval_ms
        self.stats = stats

    def process(self, pieces: Sequence[Piece]) -> list[np.ndarray]:
        """Each piece processed, as float32 host arrays, in order."""
        try:
            return self._on_device(pieces)
        except Exception as exc:  # only out-of-memory is handled: the rest propagates
            if not self.device.is_out_of_memory(exc):
                raise
        # Retried outside the handler, so the failed attempt's tensors are already freed.
        return self._split(pieces)

    def _split(self, pieces: Sequence[Piece]) -> list[np.ndarray]:
        self.device.release()
        if len(pieces) > 1:
            self.stats.oom_splits += 1
            mid = len(pieces) // 2
            return self.process(pieces[:mid]) + self.process(pieces[mid:])
        (piece,) = pieces
        if self.trace_wise and len(piece.samples) > 1:
            self.stats.oom_splits += 1
            top, bottom = piece.halves()
            return [np.concatenate(self.process([top]) + self.process([bottom]))]
        self.stats.host_fallbacks += 1
        log.warning("gather %s: %d trace(s) do not fit in %s memory; processed on the host",
                    piece.key_value, len(piece.samples), self.device.kind)
        out = self.apply(piece.samples, self._context([piece]), piece.key_value)
        return [np.asarray(out, dtype=np.float32)]

    def _on_device(self, pieces: Sequence[Piece]) -> list[np.ndarray]:
        """One transfer in, the steps, one transfer out."""
        host = pieces[0].samples if len(pieces) == 1 else np.concatenate(
            [p.samples for p in pieces])
        need = host.nbytes * WORKING_SET_FACTOR
        self.device.check_budget(need)
        out = self.device.to_host(self._steps(self.device.to_device(host), pieces))
        self.stats.batches += 1
        self.stats.largest_batch_bytes = max(self.stats.largest_batch_bytes, need)
        return _split_rows(out, [len(p.samples) for p in pieces])

    def _steps(self, data: Any, pieces: Sequence[Piece]) -> Any:
        """The flow on a batch already on the device: stacked if trace-wise, else per gather."""
        if self.trace_wise:
            try:
                return self.apply(data, self._context(pieces), pieces[0].key_value)
            except ProcessingError as exc:
                if len(pieces) == 1 or self.device.is_out_of_memory(exc):
                    raise
                # Gather by gather below, so the error names the gather it came from.
        bounds = np.cumsum([0] + [len(p.samples) for p in pieces])
        return self.device.concat([
            self.apply(data[int(a):int(b)], self._context([p]), p.key_value)
            for p, a, b in zip(pieces, bounds[:-1], bounds[1:], strict=True)])

    def _context(self, pieces: Sequence[Piece]) -> GatherContext:
        offsets = [p.offsets_m for p in pieces]
        stacked = None if any(o is None for o in offsets) else np.concatenate(
            [o for o in offsets if o is not None])
        return GatherContext(self.sample_interval_ms, stacked)


class DeviceUnitProcessor(UnitProcessor):
    """A :class:`~seisproc.jobs.units.UnitProcessor` that runs its flow on a device.

    A unit's gathers are read, processed and written in batches sized to the device's
    memory (see :class:`DeviceBatcher`); a stop request is honoured between batches.
    """

    def __init__(self, flow: Flow, partial_path: Path, output_layout: SegyLayout,
                 device: TorchDevice, stats: BatchStats | None = None) -> None:
        super().__init__(flow, partial_path, output_layout, backend=device)
        self.device = device
        self.batcher = DeviceBatcher(device, self.processors, self.apply_steps,
                                     self._dt_ms, stats if stats is not None else BatchStats())

    def batches(self, gathers: Sequence[GatherRef]) -> list[Sequence[GatherRef]]:
        capacity = self.device.capacity_bytes()
        trace_bytes = self.n_samples * 4 * WORKING_SET_FACTOR
        sizes = [len(g.positions) * trace_bytes for g in gathers]
        return [tuple(gathers[i] for i in group) for group in plan_batches(sizes, capacity)]

    def process_gathers(self, gathers: Sequence[GatherInput]) -> list[np.ndarray]:
        pieces = [Piece(samples, self.context(headers).offsets_m, key)
                  for samples, headers, key in gathers]
        return self.batcher.process(pieces)


# ---------------------------------------------------------------------- the actors
def _steps_from(config: Mapping[str, Any]) -> tuple[Step, ...]:
    """The ``steps`` of a processor config: ``Step`` s or flow-file ``{name: params}``."""
    steps = []
    for number, item in enumerate(config.get("steps") or (), start=1):
        if isinstance(item, Step):
            steps.append(item)
        elif isinstance(item, Mapping) and len(item) == 1:
            ((name, params),) = item.items()
            steps.append(Step(processor=str(name), params=dict(params or {})))
        else:
            raise FlowError(f"processor_config: step {number} must be one mapping "
                            f"'processor: {{parameters}}'; got {item!r}")
    if not steps:
        raise FlowError("processor_config: 'steps' lists no processor")
    return tuple(steps)


def _chain(processors: Sequence[Processor]) -> Apply:
    """The steps on one array, each error naming the gather and the step."""

    def apply(data: Any, context: GatherContext, key_value: int) -> Any:
        for step, processor in enumerate(processors, start=1):
            try:
                data = processor.apply(data, context)
            except Exception as exc:
                raise ProcessingError(f"gather {key_value}, step {step} ({processor.name}): "
                                      f"{type(exc).__name__}: {exc}") from exc
        return data

    return apply


class GpuWorkerActor(BaseWorkerActor):
    """A worker that runs flows on a torch device: a CUDA GPU here, MPS or the CPU in
    the subclasses.

    Parameters
    ----------
    device
        ``cuda``, ``mps`` or ``cpu``; the class's :attr:`device_kind` by default.
    memory_budget_bytes
        Most device memory a batch may use; by default the class's
        :attr:`memory_budget_bytes`, then :data:`BUDGET_ENV`, then the free memory.

    Notes
    -----
    Units of a ``device: cpu`` flow run on numpy, exactly as on a CPU worker. The device
    is set up on the first unit (or by :meth:`initialize_gpu`), not in the constructor,
    so a pool starts as fast as a CPU one.
    """

    ray_options: ClassVar[dict[str, Any]] = {"num_cpus": 1, "num_gpus": 1}
    device_kind: ClassVar[WorkerKind] = "cuda"
    memory_budget_bytes: ClassVar[int | None] = None

    def __init__(self, device: WorkerKind | None = None,
                 memory_budget_bytes: int | None = None) -> None:
        super().__init__()
        self.kind: WorkerKind = device or self.device_kind
        budget = memory_budget_bytes if memory_budget_bytes is not None else (
            self.memory_budget_bytes)
        self._budget = budget if budget is not None else budget_from_env()
        self._device: TorchDevice | None = None
        self._device_lock = threading.Lock()
        self.stats = BatchStats()
        self._configs: dict[tuple[tuple[str, str], ...], list[Processor]] = {}

    @ray.method(concurrency_group=WORK)
    def initialize_gpu(self) -> DeviceInfo:
        """Open the device and warm it up (context, FFT libraries); say what it is.

        Raises :class:`~seisproc.processing.device.DeviceError` if the device is not
        usable here (no torch, or a torch build without CUDA on a GPU node).
        """
        return self._ready_device().info()

    def _ready_device(self) -> TorchDevice:
        with self._device_lock:
            if self._device is None:
                device = TorchDevice(self.kind, self._budget)
                device.warm_up()
                self._device = device
            return self._device

    @ray.method(concurrency_group=WORK)
    def process_gather_gpu(self, gather_data: np.ndarray,
                           processor_config: Mapping[str, Any]) -> np.ndarray:
        """Process one gather on the device and return it as float32 numpy.

        ``processor_config`` holds ``steps`` (flow-file style: ``[{"agc": {"window_ms":
        500}}, ...]``), ``sample_interval_ms`` and optionally ``offsets_m`` (one per
        trace). The gather is split if it does not fit in device memory.
        """
        samples = np.asarray(gather_data, dtype=np.float32)
        if samples.ndim != 2:
            raise ProcessingError(f"a gather must be 2-D (n_traces, n_samples); got shape "
                                  f"{samples.shape}")
        dt_ms = float(processor_config["sample_interval_ms"])
        processors = self._processors_for(processor_config, dt_ms, samples.shape[1])
        offsets = processor_config.get("offsets_m")
        piece = Piece(samples, None if offsets is None else np.asarray(offsets, np.float64), 0)
        batcher = DeviceBatcher(self._ready_device(), processors, _chain(processors), dt_ms,
                                self.stats)
        return batcher.process([piece])[0]

    def _processors_for(self, config: Mapping[str, Any], dt_ms: float,
                        n_samples: int) -> list[Processor]:
        """Processors of ``config``, built once per distinct list of steps, checked
        against the data's sampling."""
        steps = _steps_from(config)
        key = tuple((s.processor, repr(sorted(s.params.items()))) for s in steps)
        processors = self._configs.get(key)
        if processors is None:
            processors = self._configs[key] = [s.build() for s in steps]
        for processor in processors:
            processor.check(dt_ms, n_samples)
        return processors

    @ray.method(concurrency_group=CONTROL)
    def gpu_memory(self) -> DeviceMemory:
        """This worker's device memory and batching figures (the resource monitor's)."""
        device = self._device
        if device is None:  # not set up yet: nothing allocated, figures unknown
            return DeviceMemory(node_id(), self.kind, None, "(not initialised)",
                                budget_bytes=self._budget,
                                **dataclasses.asdict(self.stats))
        return device.memory(self.stats)

    def make_processor(self, spec: JobSpec) -> UnitProcessor:
        if spec.flow.device == "cpu":
            return super().make_processor(spec)
        return DeviceUnitProcessor(spec.flow, Path(spec.partial_path),
                                   spec.output_layout, self._ready_device(), self.stats)  # type: ignore[arg-type]

    def _enter(self, spec: JobSpec) -> tuple[threading.Event, UnitProcessor]:
        if spec.flow.device != "cpu":  # set up outside the lock: control calls go on
            self._ready_device()
        return super()._enter(spec)

    def _close(self, job_id: str) -> None:
        super()._close(job_id)
        if self._device is not None:  # the job is over: its cached blocks go back
            self._device.release()


class MetalWorkerActor(GpuWorkerActor):
    """A GPU worker on Apple silicon: torch on MPS (Metal), placed by the ``metal``
    resource (one per Mac). MPS has no float64: processors then design in float32."""

    ray_options: ClassVar[dict[str, Any]] = {"num_cpus": 1, "resources": {"metal": 1}}
    device_kind: ClassVar[WorkerKind] = "mps"


class TorchCpuWorkerActor(GpuWorkerActor):
    """The GPU worker's code on the CPU device: tests and benchmarks without a GPU."""

    ray_options: ClassVar[dict[str, Any]] = {"num_cpus": 1}
    device_kind: ClassVar[WorkerKind] = "cpu"


_CLASSES: dict[WorkerKind, type[GpuWorkerActor]] = {
    "cuda": GpuWorkerActor, "mps": MetalWorkerActor, "cpu": TorchCpuWorkerActor}


def gpu_worker_class(kind: WorkerKind) -> type[GpuWorkerActor]:
    """The GPU worker class for ``kind`` (``cpu``: torch on the CPU device)."""
    return _CLASSES[kind]


# ---------------------------------------------------------------------- the cluster
def _torch_version() -> str | None:
    """torch's version from its metadata (no import: that costs seconds), or ``None``."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def cluster_devices(address: str | None = None) -> ClusterDevices:
    """What the Ray cluster this process is connected to offers (CPUs, GPUs, Metal).

    ``address`` only names the cluster in messages.
    """
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    where = f"the Ray cluster at {address}" if address else "the local Ray cluster"
    return ClusterDevices(cpus=float(resources.get("CPU", 0.0)),
                          gpus=float(resources.get("GPU", 0.0)),
                          metal=float(resources.get("metal", 0.0)), where=where,
                          torch_version=_torch_version())


def check_device(flow: Flow, address: str | None = None) -> None:
    """Refuse a flow whose device the cluster lacks: the engine's submit-time check.

    Only ``device: gpu`` asks anything of the cluster (connecting to it if need be);
    ``auto`` and ``cpu`` always have somewhere to run.
    """
    if flow.device != "gpu":
        return
    connect(address)
    worker_kind(flow.device, cluster_devices(address))


# ---------------------------------------------------------------------- routing
class DeviceExecutor:
    """An :class:`~seisproc.jobs.ports.Executor` that routes units by the flow's device.

    Holds a pool of CPU workers and, on a cluster with GPUs, a pool of GPU workers:
    ``cpu`` flows go to the first, ``gpu`` flows to the second, ``auto`` flows to the
    GPU pool when there is one. Each pool keeps its own bound on units in flight; units
    beyond it wait here, in order, so that a busy GPU pool never queues more on its
    actors than a CPU pool would. A ``gpu`` unit with no GPU pool comes back as a
    :class:`~seisproc.processing.device.DeviceError` (the job fails with that message).
    """

    def __init__(self, cpu: RayExecutor, gpu: RayExecutor | None = None) -> None:
        self.pools: dict[str, RayExecutor] = {"cpu": cpu}
        if gpu is not None:
            self.pools["gpu"] = gpu
        self._lock = threading.RLock()
        self._waiting: dict[str, deque[tuple[JobSpec, WorkUnit]]] = {
            name: deque() for name in self.pools}
        self._decided: list[Completion] = []
        """Outcomes settled here (refused or dropped units), handed out by :meth:`wait`."""

    def route(self, flow: Flow) -> str:
        """The pool that runs ``flow``'s units (``cpu`` or ``gpu``)."""
        if flow.device == "cpu" or (flow.device == "auto" and "gpu" not in self.pools):
            return "cpu"
        if "gpu" not in self.pools:
            raise DeviceError("device: gpu, but this engine's cluster has no GPU workers; "
                              "use device: auto or cpu, or run on a cluster with a GPU")
        return "gpu"

    def capacity(self) -> int:
        return sum(pool.capacity() for pool in self.pools.values())

    def in_flight(self) -> int:
        with self._lock:
            waiting = sum(len(q) for q in self._waiting.values()) + len(self._decided)
        return waiting + sum(pool.in_flight() for pool in self.pools.values())

    def submit(self, spec: JobSpec, unit: WorkUnit) -> None:
        """Start ``unit`` on its pool, or queue it here while that pool is full."""
        with self._lock:
            try:
                name = self.route(spec.flow)
            except DeviceError as exc:
                self._decided.append(Completion(spec.job_id, unit, error=exc))
                return
            self._waiting[name].append((spec, unit))
            self._fill(name)

    def _fill(self, name: str) -> None:
        """Move waiting units of pool ``name`` onto it while it has room."""
        pool, waiting = self.pools[name], self._waiting[name]
        while waiting and pool.in_flight() < pool.capacity():
            pool.submit(*waiting.popleft())

    def wait(self, timeout_s: float) -> list[Completion]:
        """Completions from every pool, waiting up to ``timeout_s`` for the first."""
        with self._lock:
            done, self._decided = self._decided, []
        refs = [ref for pool in self.pools.values() for ref in pool.pending()]
        ready = wait_ready(refs, 0 if done else timeout_s) if refs else []
        if not refs and not done:
            time.sleep(timeout_s)
        for pool in self.pools.values():
            done += pool.collect(ready)
        with self._lock:
            for name in self.pools:
                self._fill(name)
        return done

    def stop_job(self, job_id: str) -> None:
        """Stop the job on every pool; its units still waiting here come back dropped."""
        with self._lock:
            for pool in self.pools.values():
                pool.stop_job(job_id)
            self._drop(job_id)

    def release_job(self, job_id: str) -> None:
        with self._lock:
            for pool in self.pools.values():
                pool.release_job(job_id)
            self._drop(job_id)

    def _drop(self, job_id: str) -> None:
        for name, waiting in self._waiting.items():
            kept = [(s, u) for s, u in waiting if s.job_id != job_id]
            self._decided += [Completion(job_id, u) for s, u in waiting if s.job_id == job_id]
            self._waiting[name] = deque(kept)

    def shutdown(self) -> None:
        with self._lock:
            for waiting in self._waiting.values():
                waiting.clear()
            self._decided.clear()
        for pool in self.pools.values():
            pool.shutdown()

    def workers(self) -> list[WorkerStatus]:
        """Every pool's actors (the resource monitor's probe reads these)."""
        return [w for pool in self.pools.values() for w in pool.workers()]

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until every actor of every pool answers (see RayExecutor.wait_ready)."""
        for pool in self.pools.values():
            pool.wait_ready(timeout_s)

    def device_memory(self, timeout_s: float = 5.0) -> list[DeviceMemory]:
        """Each GPU worker's device memory figures; ``[]`` without a GPU pool."""
        pool = self.pools.get("gpu")
        if pool is None:
            return []
        refs = [w.actor.gpu_memory.remote() for w in pool.workers()]
        return list(ray.get(refs, timeout=timeout_s))


def device_executor(address: str | None = None, workers: int | None = None, *,
                    units_per_worker: int = 2,
                    gpu_class: type[GpuWorkerActor] | None = None,
                    gpu_workers: int | None = None) -> DeviceExecutor:
    """The engine's executor: CPU workers, plus GPU workers where the cluster has GPUs.

    Parameters
    ----------
    address
        Ray cluster to join if not connected (see :func:`connect`).
    workers
        CPU workers; by default the cluster's CPUs less one per GPU worker (each GPU
        worker holds a CPU to drive its GPU).
    gpu_class, gpu_workers
        Override the GPU pool (tests and benchmarks: :class:`TorchCpuWorkerActor`);
        by default one worker per CUDA GPU, or per Metal node, when torch is installed.
    """
    connect(address)
    cluster = cluster_devices(address)
    kind = cluster.accelerator if cluster.torch_version is not None else None
    if gpu_class is None and kind is not None:
        gpu_class = gpu_worker_class(kind)
        gpu_workers = gpu_workers or int(cluster.gpus if kind == "cuda" else cluster.metal)
    n_gpu = (gpu_workers or 1) if gpu_class is not None else 0
    cpu = RayExecutor(workers=workers or max(1, cluster_cpus() - n_gpu),
                      units_per_worker=units_per_worker)
    gpu = RayExecutor(workers=n_gpu, units_per_worker=units_per_worker,
                      actor_class=gpu_class) if gpu_class is not None else None
    return DeviceExecutor(cpu, gpu)
