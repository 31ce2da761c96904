"""Velocity analysis on the cluster: one Ray task per location.

Each task reads its super-gather through the CDP index on a worker, where a job's units
would run, and sends back only the semblance panel (and picks): a few hundred kilobytes
for a location of a hundred velocities. The locations run side by side, as many at once
as the cluster has CPUs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ray
from ray.exceptions import RayTaskError

from seisproc.jobs.velan import VelanLocation, VelanRequest, analyse_locations
from seisproc.orchestration.cluster import connect

__all__ = ["run_velan"]


@ray.remote(num_cpus=1, max_retries=2)
def _locations(request: VelanRequest, cdps: Sequence[int]) -> list[VelanLocation]:
    return analyse_locations(request, cdps)


def run_velan(
    request: VelanRequest,
    cdps: Sequence[int],
    *,
    address: str | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> list[VelanLocation]:
    """Each location's panel, in the order of ``cdps``.

    ``on_done(n, total)`` is called as the ``n``-th location (in any order) comes back;
    a worker's :class:`~seisproc.errors.SeisprocError` reaches the caller as itself.
    """
    connect(address)
    pending = {_locations.remote(request, [cdp]): i for i, cdp in enumerate(cdps)}
    results: list[VelanLocation | None] = [None] * len(cdps)
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(ready[0])
            try:
                results[i] = ray.get(ready[0])[0]
            except RayTaskError as err:
                raise (err.cause if isinstance(err.cause, Exception) else err) from None
            if on_done is not None:
                on_done(len(cdps) - len(pending), len(cdps))
    finally:
        for ref in pending:
            ray.cancel(ref)
    return [r for r in results if r is not None]
