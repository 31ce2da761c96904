"""Per-trace figures of two versions of a chunk of traces.

``seisproc diff`` folds every trace of two outputs: A's energy, the difference's energy,
and the largest absolute difference with its sample. In numpy the sums took four passes
over the chunk (two ``einsum``, a subtraction, ``abs``); once the samples' conversion was
compiled (:mod:`seisproc.io.ibm`) they were most of a diff's time beyond reading both
files. One compiled loop per trace (vectorized, its sums reassociated) computes both
energies in float64 and stores ``|a - b|``; numpy's ``argmax``, itself vectorized and
first-NaN-wins, then finds each trace's largest difference. A's energy of byte-identical
runs, scored at the end, is summed in float64 too: a gather's figures do not depend on
which chunks differed, hence not on the chunk size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seisproc.compiled import compiled

__all__ = ["TraceFigures", "trace_figures"]


@dataclass(frozen=True)
class TraceFigures:
    """Per trace (row) of a chunk."""

    energy_a: np.ndarray
    """Sum of squares of A's samples (float64)."""
    energy_diff: np.ndarray
    """Sum of squares of ``a - b`` (float64, of the float32 differences)."""
    max_diff: np.ndarray
    """Largest ``|a - b|``; NaN where the difference has one."""
    where: np.ndarray
    """Its sample: the first NaN, else the first largest."""


def trace_figures(samples_a: np.ndarray, samples_b: np.ndarray) -> TraceFigures:
    """The figures of each trace (row) of two float32 arrays of one shape; overwrites
    ``samples_b`` with ``|a - b|`` when it is a float32 array in C order."""
    a = np.ascontiguousarray(samples_a, dtype=np.float32)
    difference = np.ascontiguousarray(samples_b, dtype=np.float32)
    energy_a = np.empty(len(a), dtype=np.float64)
    energy_diff = np.empty(len(a), dtype=np.float64)
    _fold(a, difference, energy_a, energy_diff)
    where = difference.argmax(axis=1)
    return TraceFigures(energy_a, energy_diff, difference[np.arange(len(a)), where], where)


@compiled(fastmath={"reassoc", "contract", "nsz"})
def _fold(a, b, energy_a, energy_diff):  # type: ignore[no-untyped-def]
    """Both energies of each row, and ``b`` overwritten with ``|a - b|``."""
    rows, n = a.shape
    for i in range(rows):
        row_a, row_b = a[i], b[i]
        sum_a = 0.0
        sum_d = 0.0
        for j in range(n):
            value = row_a[j]
            d = value - row_b[j]
            sum_a += np.float64(value) * np.float64(value)
            sum_d += np.float64(d) * np.float64(d)
            row_b[j] = abs(d)
        energy_a[i] = sum_a
        energy_diff[i] = sum_d
