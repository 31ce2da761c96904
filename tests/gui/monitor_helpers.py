"""Made-up resource snapshots and alerts for widget tests: real records, chosen values."""

from __future__ import annotations

from datetime import timedelta

from seisproc.alerts import Alert, AlertStatus, Severity
from seisproc.jobs.model import utcnow
from seisproc.monitoring.snapshot import (
    ClusterStatus,
    GpuStats,
    JobMetrics,
    NodeStatus,
    ResourceSnapshot,
    WorkerInfo,
)

GB = 1024**3
NODE_A, NODE_B = "a" * 56, "b" * 56


def make_snapshot(*, cpu: float = 20.0, memory: float = 40.0, monotonic_s: float = 1000.0,
                  gpus: tuple[GpuStats, ...] = (), cluster: ClusterStatus | None = None,
                  jobs: tuple[JobMetrics, ...] = ()) -> ResourceSnapshot:
    """A snapshot of a 4-core, 16 GB machine at ``monotonic_s``."""
    return ResourceSnapshot(
        at=utcnow(), monotonic_s=monotonic_s, interval_s=1.0, cpu_percent=cpu,
        cpu_per_core=(cpu,) * 4, memory_percent=memory,
        memory_used_bytes=int(memory / 100 * 16 * GB), memory_total_bytes=16 * GB,
        swap_percent=0.0, gpus=gpus, cluster=cluster, jobs=jobs)


def gpu(index: int, utilization: float = 50.0, memory_gb: float = 20.0) -> GpuStats:
    return GpuStats(index, f"Test GPU {index}", utilization, int(memory_gb * GB), 80 * GB, 60.0)


def two_node_cluster(job_id: str = "job000000001") -> ClusterStatus:
    """Two nodes, three workers: two busy on ``job_id`` (one with a unit queued), one idle."""
    nodes = (NodeStatus(NODE_A, "10.0.0.1", True, 8, 6, 2, 2),
             NodeStatus(NODE_B, "10.0.0.2", True, 8, 7, 1, 0))
    workers = (WorkerInfo(NODE_A, "1" * 32, "cpu", "busy", job_id, 2),
               WorkerInfo(NODE_A, "2" * 32, "cuda", "busy", job_id, 1),
               WorkerInfo(NODE_B, "3" * 32, "cpu", "idle", None, 0))
    return ClusterStatus(nodes, workers_lost=0, workers=workers)


def alert(rule: str, severity: Severity = Severity.WARNING, *, resolved: bool = False,
          age_s: float = 0.0, job_id: str | None = None) -> Alert:
    status = AlertStatus.RESOLVED if resolved else AlertStatus.FIRING
    return Alert(rule, severity, status, f"{rule} {'resolved' if resolved else 'fired'}",
                 at=utcnow() - timedelta(seconds=age_s), job_id=job_id)
