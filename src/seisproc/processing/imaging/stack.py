"""Stack: one trace per CMP gather, the mean of its live traces (the ``stack`` step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from seisproc.processing._backend import Array, as_gather, precise_dtype
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, Reduced, register

__all__ = ["Stack", "StackParams", "StackedTrace", "stack_gather"]


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


class StackParams(ProcessorParams):
    """The stack takes no parameters: every live trace of the CMP counts the same."""


@register
class Stack(Processor):
    """Stack a CMP gather to one trace (:func:`stack_gather`), after ``nmo``.

    The output trace keeps the headers of the gather's first live trace (its ``cdp`` and
    ``cdp_x``/``cdp_y`` among them), with ``offset`` 0 and the fold (live traces
    stacked) in the fold field (``nhs``, bytes 33-34). One trace per gather, so it ends
    its stage, and the stage gathers by CDP.

    >>> import numpy as np
    >>> from seisproc.processing.base import GatherContext
    >>> gather = np.array([[0, 0], [1, 3], [3, 1]], dtype=np.float32)
    >>> out = Stack(StackParams()).reduce(gather, GatherContext(4.0))
    >>> out.samples, out.source_traces, out.header_values["nhs"]
    (array([[2., 2.]], dtype=float32), array([1]), array([2]))
    """

    name: ClassVar[str] = "stack"
    Params: ClassVar[type[ProcessorParams]] = StackParams
    output_traces: ClassVar[str | int] = "one_per_gather"
    gather_by: ClassVar[tuple[str, ...]] = ("cdp", "cmp")
    gather_by_reason: ClassVar[str] = (
        "stack averages the traces of a CMP: put it in a stage with gather_by: cdp")

    def apply(self, gather: Array, context: GatherContext) -> Array:
        return self.reduce(gather, context).samples

    def reduce(self, gather: Array, context: GatherContext) -> Reduced:
        xp, x = as_gather(gather)
        stacked = stack_gather(x)
        live = xp.astype(xp.any(x != 0, axis=-1), xp.int32)
        first_live = int(xp.argmax(live))  # the first live trace; 0 when none is
        return Reduced(xp.reshape(stacked.samples, (1, -1)), np.array([first_live]),
                       {"offset": np.array([0]), "nhs": np.array([stacked.fold])})
