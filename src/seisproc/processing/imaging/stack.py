"""Stack: one trace per CMP gather, the mean of its live traces."""

from __future__ import annotations

from dataclasses import dataclass

from seisproc.processing._backend import Array, as_gather, precise_dtype

__all__ = ["StackedTrace", "stack_gather"]


@dataclass(frozen=True)
class StackedTrace:
    """The stack of one gather and how many traces went into it."""

    samples: Array
    """The stacked trace, float32 ``(n_samples,)``, in the gather's namespace."""
    fold: int
    """Live traces stacked (the ``fold`` the output trace header records)."""


def stack_gather(gather: Array) -> StackedTrace:
    """Mean of the live traces of an NMO-corrected gather, sample by sample.

    A trace is live when any of its samples is not 0; a dead trace (all zeros) adds
    nothing and is not counted. Each output sample is divided by the number of traces
    that hold a non-zero value there, so that a sample muted to 0 on far offsets (the
    NMO stretch mute, a top mute) does not dim the shallow stack; where no trace holds
    anything the output is 0. Sums run in double precision (single on Apple's MPS).

    >>> import numpy as np
    >>> gather = np.array([[1, 2, 0], [3, 0, 0], [0, 0, 0]], dtype=np.float32)
    >>> stacked = stack_gather(gather)
    >>> stacked.samples, stacked.fold
    (array([2., 2., 0.], dtype=float32), 2)
    """
    xp, x = as_gather(gather)
    live = xp.any(x != 0, axis=-1)
    fold = int(xp.sum(xp.astype(live, xp.int64)))
    holds = xp.astype(x != 0, xp.float32)
    counts = xp.sum(holds, axis=0)
    total = xp.sum(xp.astype(x, precise_dtype(x)), axis=0)
    mean = total / xp.astype(xp.where(counts > 0, counts, 1.0), total.dtype)
    return StackedTrace(xp.astype(mean, xp.float32), fold)
