"""The GPU worker actors: CUDA, Apple's MPS, and torch's CPU device as a stand-in.

A GPU worker is a :class:`~seisproc.orchestration.workers.BaseWorkerActor` whose units
run on a torch device: same ``run_unit``, same unit processor but for where the arrays
live (:class:`~seisproc.orchestration.gpu.batching.DeviceUnitProcessor`). Ray places it
by resources: ``num_gpus`` for CUDA, the custom ``metal`` resource for
:class:`MetalWorkerActor` (a local start declares it, see
:func:`~seisproc.orchestration.cluster.local_resources`). :class:`TorchCpuWorkerActor`
runs the very same code on the CPU device: the tests and the benchmark use it on machines
without a GPU. Each worker reports its device memory (:meth:`GpuWorkerActor.gpu_memory`)
to the resource monitor, and hands cached device memory back when a job is released.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any, ClassVar

import ray

from seisproc.io.segy import SegyLayout
from seisproc.jobs.ports import JobSpec
from seisproc.jobs.units import UnitProcessor
from seisproc.orchestration.cluster import node_id
from seisproc.orchestration.gpu.batching import DeviceUnitProcessor
from seisproc.orchestration.gpu.device import (
    BatchStats,
    DeviceInfo,
    DeviceMemory,
    TorchDevice,
    budget_from_env,
)
from seisproc.orchestration.workers import CONTROL, WORK, BaseWorkerActor
from seisproc.processing.device import WorkerKind

__all__ = ["GpuWorkerActor", "MetalWorkerActor", "TorchCpuWorkerActor", "gpu_worker_class"]


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
    Units go through ``run_unit`` as on a CPU worker; :meth:`make_processor` gives a
    job a :class:`~seisproc.orchestration.gpu.batching.DeviceUnitProcessor`, which runs
    the job's own steps on batches on the device. Units of a ``device: cpu`` flow run on
    numpy, exactly as on a CPU worker. The device is set up on the first unit (or by
    :meth:`initialize_gpu`), not in the constructor, so a pool starts as fast as a CPU one.
    """

    ray_options: ClassVar[dict[str, Any]] = {"num_cpus": 1, "num_gpus": 1}
    device_kind: ClassVar[WorkerKind] = "cuda"
    memory_budget_bytes: ClassVar[int | None] = None

    def __init__(
        self, device: WorkerKind | None = None, memory_budget_bytes: int | None = None
    ) -> None:
        super().__init__()
        self.kind: WorkerKind = device or self.device_kind
        budget = (
            memory_budget_bytes if memory_budget_bytes is not None else (self.memory_budget_bytes)
        )
        self._budget = budget if budget is not None else budget_from_env()
        self._device: TorchDevice | None = None
        self._device_lock = threading.Lock()
        self.stats = BatchStats()

    @ray.method(concurrency_group=WORK)
    def initialize_gpu(self) -> DeviceInfo:
        """Open the device and warm it up (context, FFT libraries); say what it is.

        A thin public entry point: the device is the very one ``run_unit`` opens on a
        job's first unit (and keeps), so a pool can pay the CUDA context's start-up
        before the first unit, and a check can learn what card a worker has. Units are
        only ever processed by ``run_unit``.

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

    @ray.method(concurrency_group=CONTROL)
    def gpu_memory(self) -> DeviceMemory:
        """This worker's device memory and batching figures (the resource monitor's)."""
        device = self._device
        if device is None:  # not set up yet: nothing allocated, figures unknown
            return DeviceMemory(
                node_id(),
                self.kind,
                None,
                "(not initialised)",
                budget_bytes=self._budget,
                **dataclasses.asdict(self.stats),
            )
        return device.memory(self.stats)

    def make_processor(self, spec: JobSpec) -> UnitProcessor:
        if spec.flow.device == "cpu":
            return super().make_processor(spec)
        layout: SegyLayout = spec.output_layout  # type: ignore[assignment]
        return DeviceUnitProcessor(
            spec.flow, Path(spec.partial_path), layout, self._ready_device(), self.stats
        )

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
    "cuda": GpuWorkerActor,
    "mps": MetalWorkerActor,
    "cpu": TorchCpuWorkerActor,
}


def gpu_worker_class(kind: WorkerKind) -> type[GpuWorkerActor]:
    """The GPU worker class for ``kind`` (``cpu``: torch on the CPU device)."""
    return _CLASSES[kind]
