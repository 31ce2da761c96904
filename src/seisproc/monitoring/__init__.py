"""Resource monitoring: the machine, its GPUs, the Ray cluster and the running jobs.

:class:`ResourceMonitor` samples them at an interval into :class:`ResourceSnapshot` s for
alert rules, the GUI and ``seisproc monitor``. Cluster figures come through a probe
callable (``seisproc.orchestration.probe`` implements it on Ray), so this package imports
neither Ray nor Qt nor SQLAlchemy.
"""

from seisproc.monitoring.gpu import NvmlGpus
from seisproc.monitoring.jobs import ACTIVE_STATES, JobTracker, Predictor
from seisproc.monitoring.monitor import (
    JobMetricsSource,
    ResourceMonitor,
    SnapshotSubscriber,
    average,
)
from seisproc.monitoring.snapshot import (
    JOB_METRICS,
    SNAPSHOT_METRICS,
    ClusterProbe,
    ClusterStatus,
    DiskStats,
    GpuStats,
    JobMetrics,
    NodeStatus,
    ResourceSnapshot,
    WorkerInfo,
)
from seisproc.monitoring.system import SystemReading, SystemSampler, WatchedFolder

__all__ = [
    "ACTIVE_STATES",
    "JOB_METRICS",
    "SNAPSHOT_METRICS",
    "ClusterProbe",
    "ClusterStatus",
    "DiskStats",
    "GpuStats",
    "JobMetrics",
    "JobMetricsSource",
    "JobTracker",
    "NodeStatus",
    "NvmlGpus",
    "Predictor",
    "ResourceMonitor",
    "ResourceSnapshot",
    "SnapshotSubscriber",
    "SystemReading",
    "SystemSampler",
    "WatchedFolder",
    "WorkerInfo",
    "average",
]
