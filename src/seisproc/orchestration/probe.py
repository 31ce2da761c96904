"""The resource monitor's cluster probe on Ray: nodes, seisproc workers, object store.

:class:`RayClusterProbe` is a :data:`~seisproc.monitoring.snapshot.ClusterProbe`: the
monitor calls it each interval and never imports Ray itself. A call costs two small GCS
requests (``ray.nodes()`` and the per-node available resources: ~0.3 ms each here) plus
a look at the :class:`~seisproc.orchestration.executor.RayExecutor`'s own worker table, so
it runs at 1 Hz at no measurable cost. Ray's state API (``ray.util.state``) would say more
but needs the dashboard, which seisproc does not start.

A process on no Ray (the desktop window before it runs a job of its own) still sees the
cluster that ``seisproc run`` in a terminal uses: :func:`service_cluster` asks the GCS of
seisproc's local Ray service, read-only and without joining as a driver, for its nodes
and its warm worker actors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import ray

from seisproc.monitoring.snapshot import ClusterStatus, NodeStatus, WorkerInfo
from seisproc.orchestration.executor import WorkerStatus
from seisproc.orchestration.gpu.reports import (
    ask_device_memory,
    warm_worker_rows,
    with_device_memory,
)
from seisproc.orchestration.service import NAMESPACE, live_head, service_gcs

__all__ = ["RayClusterProbe", "WorkerTable", "service_cluster"]

SERVICE_TIMEOUT_S = 1.0
"""A service GCS that does not answer within this costs one sample its cluster figures."""
_ALIVE_ACTOR = 2
_KINDS = {"GpuWorkerActor": "cuda", "MetalWorkerActor": "mps"}

log = logging.getLogger(__name__)


class WorkerTable(Protocol):
    """What the probe needs of an executor: its pool now (:class:`RayExecutor` has it)."""

    def workers(self) -> Sequence[WorkerStatus]:
        """One entry per live actor of the pool."""


def _available_per_node() -> dict[str, dict[str, float]]:
    """Idle resources of each live node (a developer API: an empty answer if it moved)."""
    try:
        from ray._private import state

        return dict(state.available_resources_per_node())  # type: ignore[no-untyped-call]
    except (ImportError, AttributeError) as exc:
        log.debug("per-node available resources unavailable: %s", exc)
        return {}


def _actor_key(actor: Any) -> str:
    actor_id = getattr(actor, "_actor_id", None)
    return actor_id.hex() if actor_id is not None else str(id(actor))


def _worker_info(worker: WorkerStatus) -> WorkerInfo:
    """One row of the worker table: where the actor is, and the job it runs now."""
    return WorkerInfo(node_id=worker.node, worker_id=_actor_key(worker.actor),
                      kind=worker.kind, state="busy" if worker.in_flight else "idle",
                      job_id=worker.job_ids[0] if worker.job_ids else None,
                      units_in_flight=worker.in_flight)


class RayClusterProbe:
    """Reads the Ray cluster this process is connected to.

    Parameters
    ----------
    executor
        The pool (a :class:`~seisproc.orchestration.executor.RayExecutor`, or anything
        with its ``workers()``) whose workers to report per node (alive, busy) and one by
        one (:attr:`ClusterStatus.workers`: node, state, current job), and whose replaced
        actors count as lost workers; GPU workers' rows carry the device memory they
        report (used, budget, peak). Without it: nodes, object store, and the warm
        workers of seisproc's service (found by name, state ``warm``).

    Examples
    --------
    >>> probe = RayClusterProbe(executor)                          # doctest: +SKIP
    >>> monitor = ResourceMonitor(cluster=probe)                   # doctest: +SKIP
    >>> probe().nodes[0].workers_alive                             # doctest: +SKIP
    2
    """

    def __init__(self, executor: WorkerTable | None = None) -> None:
        self.executor = executor
        self._handles: dict[str, Any] = {}
        """Warm workers' actor handles by name (looked up once each)."""
        self._pool: set[str] = set()
        self._lost = 0

    def __call__(self) -> ClusterStatus:
        if not ray.is_initialized():
            return service_cluster()
        workers = self.executor.workers() if self.executor is not None else None
        available = _available_per_node()
        nodes = tuple(self._node(raw, available.get(raw["NodeID"], {}), workers)
                      for raw in ray.nodes())  # type: ignore[no-untyped-call]
        if workers is not None:
            self._count_lost(workers)
        return ClusterStatus(nodes=nodes, workers_lost=self._lost, workers=self._rows(workers))

    def _rows(self, workers: Sequence[WorkerStatus] | None) -> tuple[WorkerInfo, ...]:
        """The pool's rows, GPU workers with the device memory they report; without a
        pool, the warm workers of seisproc's service (see :mod:`~seisproc.orchestration.
        gpu.reports`)."""
        if workers is None:
            return warm_worker_rows(self._handles)
        memories = ask_device_memory([w.actor for w in workers])
        return tuple(with_device_memory(_worker_info(w), memory)
                     for w, memory in zip(workers, memories, strict=True))

    def _node(self, raw: Mapping[str, Any], available: Mapping[str, float],
              workers: Sequence[WorkerStatus] | None) -> NodeStatus:
        total: Mapping[str, float] = raw.get("Resources") or {}
        alive = bool(raw.get("Alive"))
        store_total = total.get("object_store_memory")
        store_free = available.get("object_store_memory") if alive else None
        here = [w for w in workers if w.node == raw["NodeID"]] if workers is not None else None
        return NodeStatus(
            node_id=raw["NodeID"], address=str(raw.get("NodeManagerAddress", "")), alive=alive,
            cpus_total=float(total.get("CPU", 0.0)),
            cpus_available=float(available.get("CPU", 0.0)) if alive else 0.0,
            workers_alive=len(here) if here is not None else None,
            workers_busy=sum(1 for w in here if w.in_flight) if here is not None else None,
            object_store_used_bytes=int(store_total - store_free)
            if store_total is not None and store_free is not None else None,
            object_store_total_bytes=int(store_total) if store_total is not None else None)

    def _count_lost(self, workers: Sequence[WorkerStatus]) -> None:
        """Actors that left the pool while it kept its size were replaced: they died.

        An emptied pool is the executor shutting down, not workers dying.
        """
        pool = {_actor_key(w.actor) for w in workers}
        if pool:
            self._lost += len(self._pool - pool)
            self._pool = pool


def service_cluster() -> ClusterStatus:
    """seisproc's local Ray service as its GCS sees it: the nodes, and the warm worker
    actors that every ``seisproc run`` on this machine shares, one row each with state
    ``"warm"`` (busy or idle is known only to the process using the worker). Asked
    without joining as a driver, so looking does not keep the service up;
    ``ClusterStatus()`` when no service runs.
    """
    state = live_head()
    if state is None:
        return ClusterStatus()
    client = service_gcs(state)
    usage = client.get_all_resource_usage(timeout=SERVICE_TIMEOUT_S).resource_usage_data
    available = {data.node_id.hex(): dict(data.resources_available) for data in usage.batch}
    nodes = tuple(_service_node(info, available) for info in
                  client.get_all_node_info(timeout=SERVICE_TIMEOUT_S).values())
    actors = asyncio.run(_actors(client))
    workers = tuple(
        WorkerInfo(node_id=actor.address.node_id.hex(), worker_id=actor.actor_id.hex(),
                   kind=_KINDS.get(actor.class_name, "cpu"), state="warm")
        for actor in actors.values() if actor.state == _ALIVE_ACTOR
        and actor.ray_namespace == NAMESPACE and actor.name.startswith("seisproc-"))
    return ClusterStatus(nodes=nodes, workers=workers)


async def _actors(client: Any) -> Any:
    return await client.async_get_all_actor_info(timeout=SERVICE_TIMEOUT_S)


def _service_node(info: Any, available: Mapping[str, Mapping[str, float]]) -> NodeStatus:
    total, node_id = dict(info.resources_total), info.node_id.hex()
    free = available.get(node_id, {})
    store, store_free = total.get("object_store_memory"), free.get("object_store_memory")
    return NodeStatus(
        node_id=node_id, address=info.node_manager_address, alive=info.state == 0,
        cpus_total=float(total.get("CPU", 0.0)), cpus_available=float(free.get("CPU", 0.0)),
        object_store_used_bytes=int(store - store_free)
        if store is not None and store_free is not None else None,
        object_store_total_bytes=int(store) if store is not None else None)
