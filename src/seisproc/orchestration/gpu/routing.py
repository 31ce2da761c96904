"""Which workers a flow's units go to: the cluster's devices, the submit-time check and
the executor that keeps a CPU pool and, where the cluster has GPUs, a GPU pool.

Units are routed by the flow's ``device`` (``auto``, ``cpu``, ``gpu``) by
:class:`DeviceExecutor`. torch is never imported here (its version comes from its
package metadata), so CPU-only clusters run without it.
"""

from __future__ import annotations

import importlib.metadata
import threading
import time
from collections import deque

import ray

from seisproc.jobs.ports import Completion, JobSpec
from seisproc.jobs.units import WorkUnit
from seisproc.orchestration.cluster import cluster_cpus, connect
from seisproc.orchestration.executor import RayExecutor, WorkerStatus, wait_ready
from seisproc.orchestration.gpu.actors import GpuWorkerActor, gpu_worker_class
from seisproc.orchestration.gpu.device import DeviceMemory
from seisproc.orchestration.gpu.reports import ask_device_memory
from seisproc.processing.device import ClusterDevices, DeviceError, worker_kind
from seisproc.processing.flow import Flow

__all__ = ["cluster_devices", "check_device", "DeviceExecutor", "device_executor"]


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
    return ClusterDevices(
        cpus=float(resources.get("CPU", 0.0)),
        gpus=float(resources.get("GPU", 0.0)),
        metal=float(resources.get("metal", 0.0)),
        where=where,
        torch_version=_torch_version(),
    )


def check_device(flow: Flow, address: str | None = None) -> None:
    """Refuse a flow whose device the cluster lacks: the engine's submit-time check.

    Only ``device: gpu`` asks anything of the cluster (connecting to it if need be);
    ``auto`` and ``cpu`` always have somewhere to run.
    """
    if flow.device != "gpu":
        return
    connect(address)
    worker_kind(flow.device, cluster_devices(address))


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
            name: deque() for name in self.pools
        }
        self._decided: list[Completion] = []
        """Outcomes settled here (refused or dropped units), handed out by :meth:`wait`."""

    def route(self, flow: Flow) -> str:
        """The pool that runs ``flow``'s units (``cpu`` or ``gpu``)."""
        if flow.device == "cpu" or (flow.device == "auto" and "gpu" not in self.pools):
            return "cpu"
        if "gpu" not in self.pools:
            raise DeviceError(
                "device: gpu, but this engine's cluster has no GPU workers; "
                "use device: auto or cpu, or run on a cluster with a GPU"
            )
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
        answers = ask_device_memory([w.actor for w in pool.workers()], timeout_s)
        return [memory for memory in answers if memory is not None]


def device_executor(
    address: str | None = None,
    workers: int | None = None,
    *,
    units_per_worker: int = 2,
    gpu_class: type[GpuWorkerActor] | None = None,
    gpu_workers: int | None = None,
) -> DeviceExecutor:
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
    cpu = RayExecutor(
        workers=workers or max(1, cluster_cpus() - n_gpu), units_per_worker=units_per_worker
    )
    gpu = (
        RayExecutor(workers=n_gpu, units_per_worker=units_per_worker, actor_class=gpu_class)
        if gpu_class is not None
        else None
    )
    return DeviceExecutor(cpu, gpu)
