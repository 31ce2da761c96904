"""Velocity analysis: semblance panels and an automatic picker of monotone velocities."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from seisproc.errors import ParameterError
from seisproc.processing._backend import Array, as_gather, from_numpy

__all__ = ["SemblancePanel", "semblance_panel", "pick_velocity_function", "velocity_scan"]


@dataclass(frozen=True)
class SemblancePanel:
    """Semblance of one (super-)gather for each trial velocity and zero-offset time."""

    times_ms: np.ndarray
    """Zero-offset time of each row, ms (the gather's sample times)."""
    velocities_m_s: np.ndarray
    """Trial RMS velocity of each column, m/s."""
    values: Array
    """Semblance, ``(n_times, n_velocities)``, from 0 (incoherent) to 1, in the gather's
    namespace."""


def velocity_scan(vmin_m_s: float, vmax_m_s: float, step_m_s: float) -> np.ndarray:
    """Trial velocities from ``vmin`` to ``vmax`` inclusive (where the step lands on it).

    >>> velocity_scan(1500, 1800, 100)
    array([1500., 1600., 1700., 1800.])
    """
    if not 0 < vmin_m_s < vmax_m_s or step_m_s <= 0:
        raise ParameterError(
            f"velocity scan: need 0 < vmin < vmax and a step > 0; got vmin {vmin_m_s:g}, "
            f"vmax {vmax_m_s:g}, step {step_m_s:g} m/s"
        )
    count = int(np.floor((vmax_m_s - vmin_m_s) / step_m_s + 1e-9)) + 1
    return vmin_m_s + step_m_s * np.arange(count, dtype=np.float64)


def semblance_panel(
    gather: Array,
    offsets_m: np.ndarray,
    sample_interval_ms: float,
    velocities_m_s: np.ndarray,
    window_ms: float,
    *,
    delay_ms: float = 0.0,
    stretch_mute_percent: float | None = None,
) -> SemblancePanel:
    """Semblance of ``gather`` along the hyperbola of each trial velocity.

    ``gather`` is a super-gather: the traces of a few neighbouring CDPs, concatenated,
    ``offsets_m`` one offset per trace. For velocity ``v`` and time ``t0`` each trace is
    read at ``sqrt(t0**2 + (1000 x / v)**2)`` (as :class:`~.nmo.NMO` does, linearly
    between samples); with ``a_i`` those samples, semblance is ``sum_w (sum_i a_i)**2 /
    sum_w (N sum_i a_i**2)``, sums ``w`` over a centred window of ``window_ms`` (the
    nearest odd number of samples, truncated at the trace ends), ``N`` the traces that
    hold a sample there (not muted, not dead, not past their end). Samples stretched more
    than ``stretch_mute_percent`` are left out, as NMO would.

    Velocity analysis asks for a hundred velocities on a few hundred traces at every
    location, so the panel is a dozen passes over the traces per velocity, in place in
    float32 buffers that are reused (see :class:`_MoveoutReader`), and window sums from
    running sums. It runs in numpy on the host, where velocity analysis runs (a torch
    gather is copied there and the panel returned on its device): allocating each pass's
    result, as array-API code must, made it five times slower. A location of 600 traces x
    2001 samples x 100 velocities takes about 0.9 s of one core (the per-velocity float64
    version took 6.5 s). Positions are float32: a read lands within 1e-4 of a sample of
    where float64 would put it.

    >>> gather = np.zeros((2, 100), np.float32); gather[:, 50] = 1.0
    >>> panel = semblance_panel(gather, np.array([0.0, 0.0]), 4.0, np.array([2000.0]), 12)
    >>> round(float(panel.values[50, 0]), 3), panel.values.shape
    (1.0, (100, 1))
    """
    _, x = as_gather(gather)
    n_traces, n_samples = x.shape
    offsets = np.asarray(offsets_m, dtype=np.float64).reshape(-1)
    if offsets.shape != (n_traces,) or window_ms < sample_interval_ms:
        raise ParameterError(
            f"semblance: need one offset per trace ({offsets.size} for {n_traces} traces) "
            f"and a window of at least one sample ({window_ms:g} ms at "
            f"{sample_interval_ms:g} ms)"
        )
    velocities = np.asarray(velocities_m_s, dtype=np.float64).reshape(-1)
    samples = _host(x, np.float32)
    live = samples.any(axis=1)  # dead traces hold nothing
    reader = _MoveoutReader(
        samples[live], offsets[live], sample_interval_ms, delay_ms, stretch_mute_percent
    )
    sums = np.zeros((3, velocities.size, n_samples))
    for column, velocity in enumerate(velocities):
        reader.add_sums(float(velocity), sums[:, column])
    width = max(1, 2 * int(window_ms / sample_interval_ms // 2) + 1)
    values = _coherence(sums[0], sums[1], sums[2], width)
    times_ms = delay_ms + np.arange(n_samples) * sample_interval_ms
    return SemblancePanel(times_ms, velocities, from_numpy(values.T, x))


class _MoveoutReader:
    """A super-gather's live traces, read along one velocity's hyperbolas at a time.

    A trace's moveout in samples, ``dn = t - t0 = c / (t + t0)`` (``c = (1000 x / v
    dt)**2``), is computed in that form because float32 keeps ``dn`` to its own relative
    precision, where ``t - t0`` would lose it to cancellation. The sample read at ``t0``
    index ``j`` lies at ``j + dn``: with ``k = ceil(j + dn)``, it is ``x[k] + (j + dn - k)
    (x[k] - x[k-1])``, one gather of ``x[k]`` and one of the slope, from copies of the
    traces padded with a zero sample (value and slope) where reads past the end (and
    muted reads, sent there) land.

    Traces go in blocks of similar offset, small enough that the buffers stay in cache
    and every flat index is exact in float32. A block skips the times at which none of
    its traces holds a sample: before the stretch mute of its nearest offset and after
    its hyperbolas leave the trace (a third of the work of a long-offset line).
    """

    def __init__(
        self,
        traces: np.ndarray,
        offsets_m: np.ndarray,
        dt_ms: float,
        delay_ms: float,
        stretch_mute_percent: float | None,
    ) -> None:
        n = traces.shape[1]
        self.dt_ms, self.n_samples, self.start = dt_ms, n, delay_ms / dt_ms
        block = max(1, min(_BLOCK_ELEMENTS // n, _EXACT_FLOAT32 // (n + 1) - 1))
        order = np.argsort(np.abs(offsets_m), kind="stable")
        self.blocks = [
            _TraceBlock(traces[rows], offsets_m[rows])
            for rows in np.array_split(order, range(block, order.size, block))
            if rows.size
        ]
        t0 = self.start + np.arange(n)  # zero-offset time of each row, in samples
        self.t0 = t0.astype(np.float32)
        self.t0_squared = (t0**2).astype(np.float32)
        self.before = int(np.count_nonzero(t0 <= 0))  # t + t0 may be 0; no cancellation
        self.columns = np.arange(n, dtype=np.float32)
        self.mute = (
            None
            if stretch_mute_percent is None
            else (t0 * stretch_mute_percent / 100.0).astype(np.float32)
        )
        self.mute_ratio = (
            None if stretch_mute_percent is None else (1 + stretch_mute_percent / 100.0) ** 2 - 1
        )
        size = min(block, traces.shape[0]) * n
        self.buffers = [np.empty(size, np.float32) for _ in range(4)]
        self.index = np.empty(size, np.int64)
        self.holds = np.empty(size, bool)

    def add_sums(self, velocity_m_s: float, sums: np.ndarray) -> None:
        """Add to ``sums`` ``(3, n_samples)``, over the traces at each ``t0``, the samples
        read along the velocity's hyperbolas, their squares, and how many hold one."""
        for block in self.blocks:
            c = (1000.0 * block.offsets_m / (velocity_m_s * self.dt_ms)) ** 2
            first, stop = self._held_columns(float(c[0]), float(c[-1]))
            if first >= stop:
                continue
            moved, holds = self._read(block, c.astype(np.float32)[:, None], first, stop)
            sums[0, first:stop] += moved.sum(axis=0)
            sums[1, first:stop] += np.einsum("ij,ij->j", moved, moved)
            sums[2, first:stop] += np.count_nonzero(holds, axis=0)

    def _held_columns(self, c_near: float, c_far: float) -> tuple[int, int]:
        """Columns ``[first, stop)`` outside which no trace of a block whose ``c`` runs
        from ``c_near`` to ``c_far`` holds a sample (a sample or two wide of the exact
        bounds: within them the reads decide, sample by sample)."""
        n, end = self.n_samples, self.n_samples - 1 + self.start  # the last sample's time
        first = 0
        if self.mute_ratio is not None:  # stretched while t0 < sqrt(c / ratio)
            first = max(0, math.floor(math.sqrt(c_near / self.mute_ratio) - self.start) - 1)
        if end < 0 or end * end < c_near:
            return first, first
        return first, min(n, math.floor(math.sqrt(end * end - c_near) - self.start) + 2)

    def _read(
        self, block: _TraceBlock, c: np.ndarray, first: int, stop: int
    ) -> tuple[np.ndarray, ...]:
        rows, width, n = c.shape[0], stop - first, self.n_samples
        t, moveout, k, moved = (b[: rows * width].reshape(rows, width) for b in self.buffers)
        index, holds = self.index[: rows * width], self.holds[: rows * width].reshape(rows, width)
        t0 = self.t0[first:stop]
        before = min(max(self.before - first, 0), width)
        np.sqrt(np.add(self.t0_squared[first:stop], c, out=t), out=t)
        np.add(t, t0, out=moveout)
        moveout[:, :before] = 1.0
        np.divide(c, moveout, out=moveout)
        moveout[:, :before] = t[:, :before] - t0[:before]
        if self.mute is not None:  # stretched: sent past the end, where the pad reads 0
            np.copyto(moveout, np.float32(n + 1), where=moveout > self.mute[first:stop])
        np.ceil(moveout, out=k)
        fraction = np.subtract(moveout, k, out=moveout)
        np.add(k, self.columns[first:stop], out=k)
        np.less_equal(k, n - 1, out=holds)
        np.minimum(np.add(k, block.first, out=k), block.past_end, out=k)
        np.copyto(index.reshape(rows, width), k, casting="unsafe")
        np.take(block.slope, index, out=moved.reshape(-1))
        moved *= fraction
        moved += np.take(block.value, index, out=t.reshape(-1)).reshape(rows, width)
        return moved, holds


class _TraceBlock:
    """Traces padded with a zero sample, as flat arrays of value and slope, and where
    each trace starts and ends in them; offsets by increasing size."""

    def __init__(self, traces: np.ndarray, offsets_m: np.ndarray) -> None:
        rows, n = traces.shape
        padded = np.zeros((rows, n + 1), np.float32)
        padded[:, :n] = traces
        self.value = padded.reshape(-1)
        slope = np.zeros_like(padded)
        slope[:, 0] = traces[:, 0]  # never read but at t = t0 = 0, where it is multiplied by 0
        slope[:, 1:n] = np.diff(traces, axis=1)
        self.slope = slope.reshape(-1)
        self.first = (np.arange(rows, dtype=np.float32) * (n + 1))[:, None]
        self.past_end = self.first + n
        self.offsets_m = np.abs(offsets_m)


_BLOCK_ELEMENTS = 1 << 17
"""Samples per block of traces: buffers of half a megabyte stay in a core's cache."""
_EXACT_FLOAT32 = 1 << 24
"""Whole numbers up to this are exact in float32: the flat indices of a block stay below."""


def _coherence(
    stack: np.ndarray, energy: np.ndarray, holding: np.ndarray, width: int
) -> np.ndarray:
    """Semblance ``(n_velocities, n_samples)`` from the sums over traces at each time."""
    numerator = _window_sums(stack * stack, width)
    denominator = _window_sums(holding * energy, width)
    # Running sums leave ~1e-16 of the trace's energy in windows that hold none: there
    # the ratio is noise, not coherence, and is set to 0.
    held = denominator > 1e-12 * denominator.max(axis=-1, keepdims=True, initial=0.0)
    ratio = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=held)
    semblance: np.ndarray = np.clip(ratio, 0.0, 1.0).astype(np.float32)
    return semblance


def _window_sums(values: np.ndarray, width: int) -> np.ndarray:
    """Sums over centred windows of ``width`` samples along the last axis, truncated at
    the ends, as differences of one running sum (the cost does not grow with ``width``)."""
    n, half = values.shape[-1], width // 2
    running = np.zeros((*values.shape[:-1], n + 1))
    np.cumsum(values, axis=-1, out=running[..., 1:])
    where = np.arange(n)
    stop, start = np.minimum(where + half + 1, n), np.maximum(where - half, 0)
    out: np.ndarray = running[..., stop] - running[..., start]
    return out


def pick_velocity_function(
    panel: SemblancePanel,
    *,
    min_semblance_ratio: float = 0.25,
    separation_ms: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Automatic picks: times (ms) and RMS velocities (m/s) of one location, monotone.

    The path through the panel that never decreases in velocity and has the largest
    total semblance is found by dynamic programming over the panel's rows (each row may
    keep the previous velocity or take any higher one). RMS velocity rising with time is
    what a layered earth without inversions gives, and the constraint keeps the path
    off multiples, whose semblance peaks lie at lower velocities late in the panel. The
    picks are the path's local maxima of semblance at least ``separation_ms`` apart (by
    default ten rows of the panel) and at least ``min_semblance_ratio`` of the path's
    highest semblance: the reflections.

    >>> import numpy as np
    >>> values = np.zeros((50, 3)); values[10, 0] = values[40, 2] = 1.0
    >>> panel = SemblancePanel(np.arange(50.0) * 4, np.array([1500.0, 2000, 2500]), values)
    >>> pick_velocity_function(panel)
    (array([ 40., 160.]), array([1500., 2500.]))
    """
    values = _host(panel.values)
    path = _monotone_path(values)
    along = values[np.arange(values.shape[0]), path]
    step_ms = float(np.median(np.diff(panel.times_ms))) if panel.times_ms.size > 1 else 1.0
    separation = max(1, round((separation_ms or 10 * step_ms) / step_ms))
    rows = _peaks(along, separation, min_semblance_ratio * float(along.max(initial=0.0)))
    return panel.times_ms[rows].copy(), panel.velocities_m_s[path[rows]].copy()


def _host(values: Array, dtype: Any = np.float64) -> np.ndarray:
    """``values`` as numpy on the host (float64 unless told), wherever they live."""
    if not isinstance(values, np.ndarray):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype)


def _monotone_path(values: np.ndarray) -> np.ndarray:
    """Column of each row on the non-decreasing path with the largest sum of values."""
    n_rows, n_columns = values.shape
    columns = np.arange(n_columns)
    score = values[0].copy()
    came_from = np.zeros((n_rows, n_columns), dtype=np.int64)
    for row in range(1, n_rows):
        best = np.maximum.accumulate(score)  # the best path ending at any column <= c
        came_from[row] = np.maximum.accumulate(np.where(score == best, columns, 0))
        score = best + values[row]
    path = np.empty(n_rows, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for row in range(n_rows - 1, 0, -1):
        path[row - 1] = came_from[row, path[row]]
    return path


def _peaks(along: np.ndarray, separation: int, floor: float) -> np.ndarray:
    """Rows that are the largest within ``separation`` rows either side and above
    ``floor``, strongest first claimed; returned in time order."""
    taken: list[int] = []
    for row in np.argsort(-along, kind="stable"):
        if along[row] < floor or along[row] <= 0:
            break
        if all(abs(int(row) - other) >= separation for other in taken):
            taken.append(int(row))
    return np.array(sorted(taken), dtype=np.int64)
