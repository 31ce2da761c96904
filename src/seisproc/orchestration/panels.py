"""Parameter-test panels on the cluster: one Ray task per variant of the flow.

Each variant (:mod:`seisproc.processing.variants`) reads and processes the chosen gathers
on a worker, where a job's units would run, and sends back only the processed gathers.
The variants run side by side, as many at once as the cluster has CPUs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ray

from seisproc.jobs.panels import GatherPanel, run_on_gathers
from seisproc.orchestration.cluster import connect
from seisproc.orchestration.tasks import gather_in_order
from seisproc.processing.flow import Flow

__all__ = ["run_panels"]


@ray.remote(num_cpus=1, max_retries=2)
def _variant(flow: Flow, key_values: Sequence[int]) -> list[GatherPanel]:
    return run_on_gathers(flow, key_values)


def run_panels(flows: Sequence[Flow], key_values: Sequence[int], *,
               address: str | None = None,
               on_done: Callable[[int, int], None] | None = None) -> list[list[GatherPanel]]:
    """Each flow on the gathers with these key values, in the flows' order.

    ``address`` is a Ray address as :func:`~seisproc.orchestration.cluster.connect` takes
    it; ``on_done(n, total)`` is called as the ``n``-th variant (in any order) comes back. A
    processing error reaches the caller as the :class:`~seisproc.errors.SeisprocError`
    the worker raised, naming the file, gather and step.
    """
    connect(address)
    refs = [_variant.remote(flow, list(key_values)) for flow in flows]
    return gather_in_order(refs, on_done)
