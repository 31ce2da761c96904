"""Velocity analysis on the cluster: one Ray task per location.

Each task reads its super-gather through the CDP index on a worker, where a job's units
would run, and sends back only the semblance panel (and picks): a few hundred kilobytes
for a location of a hundred velocities. The locations run side by side, as many at once
as the cluster has CPUs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ray

from seisproc.jobs.velan import VelanLocation, VelanRequest, analyse_locations
from seisproc.orchestration.cluster import connect
from seisproc.orchestration.tasks import gather_in_order

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
    refs = [_locations.remote(request, [cdp]) for cdp in cdps]
    return [located[0] for located in gather_in_order(refs, on_done)]
