"""What the resource monitor sees at one instant: plain, immutable, JSON-ready records.

A :class:`ResourceSnapshot` is what subscribers (alert rules, the GUI, ``seisproc
monitor``) and the history's resource samples receive. Every record converts to and from
a plain dict, so the CLI's ``--json``, a webhook body and a stored sample carry the same
fields. Rates are per second over the interval since the previous snapshot; sizes are in
bytes; temperatures in degrees Celsius.

The cluster part comes from a *probe*, any callable returning a :class:`ClusterStatus`:
``seisproc.orchestration.probe`` implements it on Ray, so this package never imports Ray.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

__all__ = [
    "JOB_METRICS",
    "SNAPSHOT_METRICS",
    "ClusterProbe",
    "ClusterStatus",
    "DiskStats",
    "GpuStats",
    "JobMetrics",
    "NodeStatus",
    "ResourceSnapshot",
    "WorkerInfo",
]

T = TypeVar("T")

SNAPSHOT_METRICS: tuple[str, ...] = (
    "cpu_percent", "memory_percent", "swap_percent", "gpu_percent",
    "disk_read_bytes_per_s", "disk_write_bytes_per_s",
    "net_sent_bytes_per_s", "net_recv_bytes_per_s",
    "disk.max_percent", "disk.*.percent",
    "gpu.*.utilization_percent", "gpu.*.memory_percent", "gpu.*.temperature_c",
    "gpu.*.worker_memory_percent", "gpu.*.worker_peak_percent",
    "cluster.nodes_alive", "cluster.nodes_dead", "cluster.workers_lost",
    "nodes_lost_recently", "workers_lost_recently",
    "jobs_running", "jobs_active", "job_no_progress_seconds", "job_min_rate_ratio",
)
"""Names :meth:`ResourceSnapshot.values` may hold (``*``: one dotted segment, e.g. the
disk label ``home`` or a GPU index); a figure the machine lacks is simply absent."""
JOB_METRICS: tuple[str, ...] = (
    "fraction", "traces_done", "traces_per_s", "predicted_traces_per_s", "rate_ratio",
    "no_progress_seconds", "running_seconds", "eta_s",
    "qc_non_finite", "qc_dead_traces", "qc_rms_last", "qc_dominant_hz_last",
)
"""Names :meth:`JobMetrics.values` may hold (``job.<name>`` in alert rule files)."""


def _from_fields(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build a flat dataclass from a dict, ignoring keys it does not know (newer writers)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class DiskStats:
    """Usage and I/O rate of the file system holding one folder seisproc writes to."""

    path: str
    """The folder watched: the seisproc home or a running job's output folder."""
    label: str
    """``"home"`` or ``"job <id>"``: what the folder is to seisproc."""
    total_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float
    """Used, in % of the space a normal user may fill (psutil's definition)."""
    read_bytes_per_s: float | None = None
    """Read rate of the device under the folder; ``None`` when it cannot be attributed
    to one device (overlay or network file systems)."""
    write_bytes_per_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiskStats:
        return _from_fields(cls, data)


@dataclass(frozen=True)
class GpuStats:
    """One NVIDIA GPU as NVML reports it."""

    index: int
    name: str
    utilization_percent: float
    """Share of the last sample period in which a kernel ran."""
    memory_used_bytes: int
    memory_total_bytes: int
    temperature_c: float | None = None

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_used_bytes / self.memory_total_bytes \
            if self.memory_total_bytes else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "memory_percent": self.memory_percent}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GpuStats:
        return _from_fields(cls, data)


@dataclass(frozen=True)
class NodeStatus:
    """One node of the cluster."""

    node_id: str
    address: str
    alive: bool
    cpus_total: float = 0.0
    cpus_available: float = 0.0
    """CPUs not held by actors or tasks; seisproc's CPU workers hold one each."""
    workers_alive: int | None = None
    """seisproc worker actors placed on this node; ``None`` when the probe has no pool."""
    workers_busy: int | None = None
    """Of those, the ones with a unit in flight."""
    object_store_used_bytes: int | None = None
    object_store_total_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NodeStatus:
        return _from_fields(cls, data)


@dataclass(frozen=True)
class WorkerInfo:
    """One seisproc worker actor of the pool: the rows of the GUI's worker table."""

    node_id: str
    """Ray node id; ``""`` until the actor has answered once."""
    worker_id: str
    """The actor id (hex): stable while the actor lives, new for a replacement."""
    kind: str = "cpu"
    """Where it runs its units: ``"cpu"``, ``"cuda"`` or ``"mps"``."""
    state: str = "idle"
    """``"idle"`` or ``"busy"`` (a unit in flight)."""
    job_id: str | None = None
    """The job of the unit it runs now (its oldest in flight); ``None`` when idle."""
    units_in_flight: int = 0
    """Units sent to it and not yet back: the running one and those queued behind."""
    device_name: str | None = None
    """The device a GPU worker drives, as it reports it (``NVIDIA H100 80GB HBM3``,
    ``Apple MPS``, ``CPU (torch)``); ``None`` for a CPU worker or one that did not answer."""
    device_index: int | None = None
    """Physical CUDA index of that GPU (the ``N`` of ``gpu.N.*`` metrics); ``None`` on MPS
    and the CPU device."""
    device_used_bytes: int | None = None
    """Device memory the worker holds now (torch's caching allocator: live tensors plus
    cached blocks); ``None`` where the device cannot say (the CPU device)."""
    device_peak_bytes: int | None = None
    """The most its tensors held at once since it started."""
    device_budget_bytes: int | None = None
    """The most a batch may plan for (``SEISPROC_GPU_MEMORY_BUDGET``); ``None``: no budget
    set, a batch plans for a share of the device's free memory."""
    device_total_bytes: int | None = None
    """The device's memory."""
    device_free_bytes: int | None = None
    """The device's memory free now, whoever uses the rest (other processes too)."""

    @property
    def device_limit_bytes(self) -> int | None:
        """What the worker may fill: its budget, else the whole device."""
        return self.device_budget_bytes or self.device_total_bytes

    def device_percent(self, used: int | None) -> float | None:
        """``used`` bytes in % of :attr:`device_limit_bytes`; ``None`` where unknown."""
        limit = self.device_limit_bytes
        return None if used is None or not limit else 100.0 * used / limit

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerInfo:
        return _from_fields(cls, data)


@dataclass(frozen=True)
class ClusterStatus:
    """The cluster as a probe saw it; dead nodes stay listed (``alive=False``)."""

    nodes: tuple[NodeStatus, ...] = ()
    workers_lost: int = 0
    """Worker actors the probe saw disappear since it started (replaced or not)."""
    workers: tuple[WorkerInfo, ...] = ()
    """The pool's live actors, one row each; empty when the probe has no pool."""

    @property
    def nodes_alive(self) -> int:
        return sum(1 for n in self.nodes if n.alive)

    @property
    def nodes_dead(self) -> int:
        return sum(1 for n in self.nodes if not n.alive)

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [n.to_dict() for n in self.nodes], "workers_lost": self.workers_lost,
                "nodes_alive": self.nodes_alive, "nodes_dead": self.nodes_dead,
                "workers": [w.to_dict() for w in self.workers]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterStatus:
        """Samples stored before ``workers`` existed read back with no worker rows."""
        return cls(tuple(NodeStatus.from_dict(n) for n in data.get("nodes", ())),
                   int(data.get("workers_lost", 0)),
                   tuple(WorkerInfo.from_dict(w) for w in data.get("workers") or ()))


def _worker_device_values(gpus: tuple[GpuStats, ...], cluster: ClusterStatus | None
                          ) -> dict[str, float]:
    """``gpu.N.*`` figures from the GPU workers' own reports (see :data:`SNAPSHOT_METRICS`).

    ``gpu.N.worker_memory_percent`` and ``gpu.N.worker_peak_percent``: what the worker of
    GPU ``N`` holds now and held at most, in % of its budget (else of the device).
    ``gpu.N.memory_percent`` comes from them only where NVML has no reading of GPU ``N``
    (a GPU on another node, Apple's MPS): NVML counts every process on the device. A GPU
    index shared by workers on several nodes reads as the fullest of them.
    """
    out: dict[str, float] = {}
    nvml = {gpu.index for gpu in gpus}
    for worker in cluster.workers if cluster is not None else ():
        if worker.device_name is None:
            continue
        index = worker.device_index if worker.device_index is not None else 0
        figures = {"worker_memory_percent": worker.device_percent(worker.device_used_bytes),
                   "worker_peak_percent": worker.device_percent(worker.device_peak_bytes)}
        total, free = worker.device_total_bytes, worker.device_free_bytes
        if index not in nvml and total and free is not None:
            figures["memory_percent"] = 100.0 * (total - free) / total
        for name, value in figures.items():
            key = f"gpu.{index}.{name}"
            if value is not None:
                out[key] = max(value, out.get(key, value))
    return out


ClusterProbe = Callable[[], ClusterStatus]
"""What the monitor calls each interval for the cluster part (see the module docstring)."""


@dataclass(frozen=True)
class JobMetrics:
    """How one active job is doing, from the job engine's progress figures."""

    job_id: str
    name: str
    state: str
    """A :class:`~seisproc.jobs.model.JobState` value."""
    output: str = ""
    fraction: float = 0.0
    traces_done: int = 0
    traces_total: int = 0
    traces_per_s: float = 0.0
    predicted_traces_per_s: float | None = None
    """The rate the job history predicts for this flow, when it has one."""
    no_progress_seconds: float = 0.0
    """Seconds since the job last finished a unit (or since it was first seen)."""
    running_seconds: float = 0.0
    """Seconds since the job was first seen running by this monitor."""
    eta_s: float | None = None
    qc_non_finite: int = 0
    """NaN/Inf samples in the job's output so far (QC of the units this process ran)."""
    qc_dead_traces: int = 0
    """Dead traces (every sample equal) in the job's output so far."""
    qc_rms_last: float | None = None
    """RMS amplitude of the last gather processed; ``None`` before the first QC."""
    qc_dominant_hz_last: float | None = None
    """Dominant frequency of the last gather processed, in Hz."""

    @property
    def rate_ratio(self) -> float | None:
        """Actual over predicted rate: 0.5 means twice as slow as history predicts."""
        if not self.predicted_traces_per_s:
            return None
        return self.traces_per_s / self.predicted_traces_per_s

    def values(self) -> dict[str, float]:
        """Numeric figures by metric name (``job.<name>`` in alert rule files)."""
        out = {"fraction": self.fraction, "traces_per_s": self.traces_per_s,
               "no_progress_seconds": self.no_progress_seconds,
               "running_seconds": self.running_seconds,
               "traces_done": float(self.traces_done),
               "qc_non_finite": float(self.qc_non_finite),
               "qc_dead_traces": float(self.qc_dead_traces)}
        optional = {"predicted_traces_per_s": self.predicted_traces_per_s,
                    "eta_s": self.eta_s, "rate_ratio": self.rate_ratio,
                    "qc_rms_last": self.qc_rms_last,
                    "qc_dominant_hz_last": self.qc_dominant_hz_last}
        out.update({k: v for k, v in optional.items() if v is not None})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "rate_ratio": self.rate_ratio}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobMetrics:
        return _from_fields(cls, data)


@dataclass(frozen=True)
class ResourceSnapshot:
    """The machine, the cluster and the active jobs at one instant.

    ``metrics`` holds the job-level aggregates the seed's rules read
    (``s.metrics.get("job_no_progress_seconds", 0)``); :meth:`values` flattens every
    numeric figure under the dotted names alert rule files use.
    """

    at: datetime
    monotonic_s: float
    """``time.monotonic()`` when sampled: for intervals, immune to clock changes."""
    interval_s: float
    """Seconds since the previous snapshot, over which the rates were measured."""
    cpu_percent: float
    cpu_per_core: tuple[float, ...]
    memory_percent: float
    memory_used_bytes: int
    memory_total_bytes: int
    swap_percent: float
    disk_read_bytes_per_s: float | None = None
    """All local disks together; ``None`` where the system does not report it."""
    disk_write_bytes_per_s: float | None = None
    net_sent_bytes_per_s: float = 0.0
    net_recv_bytes_per_s: float = 0.0
    disks: tuple[DiskStats, ...] = ()
    gpus: tuple[GpuStats, ...] = ()
    cluster: ClusterStatus | None = None
    """``None`` when no probe was given or the probe failed this time."""
    jobs: tuple[JobMetrics, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def gpu_percent(self) -> float | None:
        """Mean utilisation of the GPUs; ``None`` without any."""
        if not self.gpus:
            return None
        return sum(g.utilization_percent for g in self.gpus) / len(self.gpus)

    @property
    def jobs_running(self) -> int:
        return sum(1 for j in self.jobs if j.state == "RUNNING")

    def values(self) -> dict[str, float]:
        """Every numeric figure by dotted name (``disk.home.percent``, ``gpu.0.temperature_c``);
        the names are those of :data:`SNAPSHOT_METRICS`."""
        out: dict[str, float] = {
            "cpu_percent": self.cpu_percent, "memory_percent": self.memory_percent,
            "swap_percent": self.swap_percent, "net_sent_bytes_per_s": self.net_sent_bytes_per_s,
            "net_recv_bytes_per_s": self.net_recv_bytes_per_s,
            "jobs_running": float(self.jobs_running)}
        for name in ("disk_read_bytes_per_s", "disk_write_bytes_per_s", "gpu_percent"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.disks:
            out["disk.max_percent"] = max(d.percent for d in self.disks)
        for disk in self.disks:
            out.setdefault(f"disk.{disk.label}.percent", disk.percent)
        for gpu in self.gpus:
            out.update({f"gpu.{gpu.index}.utilization_percent": gpu.utilization_percent,
                        f"gpu.{gpu.index}.memory_percent": gpu.memory_percent})
            if gpu.temperature_c is not None:
                out[f"gpu.{gpu.index}.temperature_c"] = gpu.temperature_c
        out.update(_worker_device_values(self.gpus, self.cluster))
        if self.cluster is not None:
            out.update({"cluster.nodes_alive": float(self.cluster.nodes_alive),
                        "cluster.nodes_dead": float(self.cluster.nodes_dead),
                        "cluster.workers_lost": float(self.cluster.workers_lost)})
        out.update(self.metrics)
        return out

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data.update(
            at=self.at.isoformat(), cpu_per_core=list(self.cpu_per_core),
            disks=[d.to_dict() for d in self.disks], gpus=[g.to_dict() for g in self.gpus],
            cluster=self.cluster.to_dict() if self.cluster else None,
            jobs=[j.to_dict() for j in self.jobs], metrics=dict(self.metrics),
            gpu_percent=self.gpu_percent, jobs_running=self.jobs_running)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceSnapshot:
        values = dict(data)
        values["at"] = datetime.fromisoformat(values["at"])
        values["cpu_per_core"] = tuple(values.get("cpu_per_core") or ())
        values["disks"] = tuple(DiskStats.from_dict(d) for d in values.get("disks") or ())
        values["gpus"] = tuple(GpuStats.from_dict(g) for g in values.get("gpus") or ())
        values["jobs"] = tuple(JobMetrics.from_dict(j) for j in values.get("jobs") or ())
        cluster = values.get("cluster")
        values["cluster"] = ClusterStatus.from_dict(cluster) if cluster else None
        values["metrics"] = dict(values.get("metrics") or {})
        return _from_fields(cls, values)
