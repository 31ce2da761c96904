"""Reading traces between samples, shared by the moveout kernels."""

from __future__ import annotations

import numpy as np

from seisproc.errors import ProcessingError
from seisproc.processing._backend import Array, device, namespace
from seisproc.processing.base import GatherContext

__all__ = ["sample_rows", "trace_offsets"]


def sample_rows(x: Array, positions: Array) -> Array:
    """Each row of ``x`` read at fractional sample ``positions`` by linear interpolation.

    ``x`` is ``(n_traces, n_in)``; ``positions`` is ``(n_traces, n_out)`` in samples from
    each row's first sample, in any float dtype. A position outside ``[0, n_in - 1]``,
    or NaN, reads 0: the trace holds nothing recorded there. Written with ``take`` on the
    flattened gather, so it runs unchanged on numpy and torch.
    """
    xp = namespace(x)
    n_traces, n_in = x.shape
    positions = xp.where(xp.isnan(positions), -1.0, positions)  # NaN: nothing to read
    floor = xp.floor(positions)
    frac = xp.astype(positions - floor, x.dtype)
    inside = (positions >= 0) & (positions <= n_in - 1)
    left = xp.astype(xp.clip(floor, min=0, max=n_in - 1), xp.int64)
    right = xp.clip(left + 1, max=n_in - 1)
    base = xp.reshape(xp.arange(n_traces, dtype=xp.int64, device=device(x)) * n_in, (-1, 1))
    flat = xp.reshape(x, (-1,))
    shape = tuple(positions.shape)
    low = xp.reshape(xp.take(flat, xp.reshape(base + left, (-1,))), shape)
    high = xp.reshape(xp.take(flat, xp.reshape(base + right, (-1,))), shape)
    return xp.where(inside, low + frac * (high - low), xp.zeros_like(low))


def trace_offsets(name: str, n_traces: int, context: GatherContext) -> np.ndarray:
    """The gather's offsets (m, float64), refused without one per trace."""
    if context.offsets_m is None:
        raise ProcessingError(
            f"{name} needs the `offset` trace header, but no offsets came with this gather"
        )
    offsets = np.asarray(context.offsets_m, dtype=np.float64).reshape(-1)
    if offsets.shape != (n_traces,):
        raise ProcessingError(
            f"{name}: {offsets.size} offsets for a gather of {n_traces} traces; expected "
            "one offset per trace"
        )
    return offsets
