"""Ray adapter of the job engine: worker actors, the executor, connecting to a cluster,
and seisproc's own local Ray service (a head that outlives commands, with warm workers).

Only composition roots (CLI, GUI) import this package; the domain core (``jobs``,
``processing``, ``io``) never does, so it runs without Ray.
"""

from seisproc.orchestration.cluster import (
    ClusterUnreachable,
    cluster_cpus,
    connect,
    connect_timeout_s,
    node_id,
    ray_shutdown_if_started,
)
from seisproc.orchestration.executor import RayExecutor, WorkerStatus
from seisproc.orchestration.gpu import (
    DeviceExecutor,
    DeviceMemory,
    GpuWorkerActor,
    MetalWorkerActor,
    TorchCpuWorkerActor,
    check_device,
    device_executor,
)
from seisproc.orchestration.service import (
    ServiceStatus,
    ensure_service,
    resolve_address,
    service_status,
    stop_service,
)
from seisproc.orchestration.workers import BaseWorkerActor, CpuWorkerActor

__all__ = [
    "BaseWorkerActor",
    "ClusterUnreachable",
    "CpuWorkerActor",
    "GpuWorkerActor",
    "MetalWorkerActor",
    "TorchCpuWorkerActor",
    "DeviceExecutor",
    "DeviceMemory",
    "check_device",
    "device_executor",
    "RayExecutor",
    "ServiceStatus",
    "WorkerStatus",
    "cluster_cpus",
    "connect",
    "connect_timeout_s",
    "ensure_service",
    "node_id",
    "ray_shutdown_if_started",
    "resolve_address",
    "service_status",
    "stop_service",
]
