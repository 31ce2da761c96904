"""Short work fanned out as Ray tasks, gathered back in order: parameter tests, velan.

Not jobs: nothing is written, so there is nothing to checkpoint or resume; a command
waits for the answers, as a person in front of a panel does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ray
from ray.exceptions import RayTaskError

__all__ = ["gather_in_order"]


def gather_in_order(refs: Sequence[Any],
                    on_done: Callable[[int, int], None] | None = None) -> list[Any]:
    """The results of the Ray tasks ``refs``, in their order.

    ``on_done(n, total)`` is called as the ``n``-th (in any order) comes back. A task's
    :class:`~seisproc.errors.SeisprocError` reaches the caller as itself (naming the
    file, gather or location), and the tasks still running are cancelled.
    """
    pending = {ref: i for i, ref in enumerate(refs)}
    results: list[Any] = [None] * len(refs)
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(ready[0])
            try:
                results[i] = ray.get(ready[0])
            except RayTaskError as err:
                raise (err.cause if isinstance(err.cause, Exception) else err) from None
            if on_done is not None:
                on_done(len(refs) - len(pending), len(refs))
    finally:
        for ref in pending:
            ray.cancel(ref)
    return results
