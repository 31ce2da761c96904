"""GPU workers' device memory, as the workers report it, for the resource monitor's rows.

Only a worker knows its device memory (torch's allocator lives in its process), so the
cluster probe asks each GPU worker (:meth:`GpuWorkerActor.gpu_memory
<seisproc.orchestration.gpu.actors.GpuWorkerActor.gpu_memory>`, a control call answered
beside running units) and folds the answer into the worker's row: used, budget, peak.
A worker that does not answer within the timeout keeps its row without figures for that
sample. Without a pool of its own (``seisproc monitor --address``), the probe finds the
warm workers of seisproc's service by their names and asks those.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

import ray
from ray.exceptions import RayError

from seisproc.monitoring.snapshot import WorkerInfo
from seisproc.orchestration.gpu.device import DeviceMemory
from seisproc.orchestration.service import NAMESPACE

__all__ = ["DEVICE_MEMORY_TIMEOUT_S", "ask_device_memory", "with_device_memory", "warm_worker_rows"]

DEVICE_MEMORY_TIMEOUT_S = 0.5
"""A GPU worker that does not answer within this has no device figures this sample."""
_ALIVE_ACTOR = 2
_WARM_PREFIX = "seisproc-"


def reports_device_memory(actor: Any) -> bool:
    """Whether ``actor`` (a Ray actor handle) is a GPU worker, which reports its memory."""
    try:
        return hasattr(actor, "gpu_memory")
    except RayError:
        return False


def ask_device_memory(
    actors: Sequence[Any], timeout_s: float = DEVICE_MEMORY_TIMEOUT_S
) -> list[DeviceMemory | None]:
    """Each actor's :class:`DeviceMemory`, in order; ``None`` for a CPU worker, a dead
    one, or one that did not answer within ``timeout_s`` (all are asked at once)."""
    refs = {
        i: actor.gpu_memory.remote()
        for i, actor in enumerate(actors)
        if reports_device_memory(actor)
    }
    out: list[DeviceMemory | None] = [None] * len(actors)
    if not refs:
        return out
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout_s)
    answered = set(ready)
    for i, ref in refs.items():
        if ref in answered:
            try:
                out[i] = ray.get(ref)
            except RayError:  # died since: its row says what the pool knows
                out[i] = None
    return out


def with_device_memory(row: WorkerInfo, memory: DeviceMemory | None) -> WorkerInfo:
    """``row`` with the worker's own device figures (unchanged without them)."""
    if memory is None:
        return row
    return dataclasses.replace(
        row,
        node_id=row.node_id or memory.node,
        device_name=memory.name,
        device_index=memory.index,
        device_used_bytes=memory.used_bytes,
        device_peak_bytes=memory.peak_allocated_bytes,
        device_budget_bytes=memory.budget_bytes,
        device_total_bytes=memory.total_bytes,
        device_free_bytes=memory.free_bytes,
    )


def warm_worker_rows(
    handles: dict[str, Any], timeout_s: float = DEVICE_MEMORY_TIMEOUT_S
) -> tuple[WorkerInfo, ...]:
    """The warm workers of seisproc's service on the cluster this process joined, one row
    each (state ``warm``: busy or idle is known only to the process using them), GPU
    workers with their device memory. ``handles`` caches actor handles by name between
    calls (a lookup costs a GCS round trip)."""
    client = ray._private.worker.global_worker.gcs_client  # type: ignore[attr-defined]
    actors = asyncio.run(_actor_table(client, timeout_s))
    warm = [
        a
        for a in actors.values()
        if a.state == _ALIVE_ACTOR
        and a.ray_namespace == NAMESPACE
        and a.name.startswith(_WARM_PREFIX)
    ]
    for gone in set(handles) - {a.name for a in warm}:
        del handles[gone]
    for actor in warm:
        if actor.name not in handles:
            try:
                handles[actor.name] = ray.get_actor(actor.name, namespace=NAMESPACE)
            except ValueError:  # gone between the table and the lookup
                continue
    rows = [
        WorkerInfo(node_id=a.address.node_id.hex(), worker_id=a.actor_id.hex(), state="warm")
        for a in warm
        if a.name in handles
    ]
    memories = ask_device_memory([handles[a.name] for a in warm if a.name in handles], timeout_s)
    return tuple(
        _kind(with_device_memory(row, memory), memory)
        for row, memory in zip(rows, memories, strict=True)
    )


def _kind(row: WorkerInfo, memory: DeviceMemory | None) -> WorkerInfo:
    return row if memory is None else dataclasses.replace(row, kind=memory.kind)


async def _actor_table(client: Any, timeout_s: float) -> Any:
    return await client.async_get_all_actor_info(timeout=timeout_s)
