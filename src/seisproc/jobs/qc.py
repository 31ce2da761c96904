"""Quality control of processed gathers, measured while a job runs.

A worker measures every gather it writes: a few figures (:class:`GatherQc`) that travel
back with the unit's stats, and for the unit's last gather a small picture
(:class:`Thumbnail`). The driver folds them into a :class:`JobQc` per job, which the
dashboard draws and alert rules watch (a NaN in the output can pause the job before
hours of compute are spent on garbage).

Everything here is measured on the processed output, costs a few percent of processing
at most, and is small enough to cross Ray with every unit: a few floats per gather, and
at most 96 x 128 samples per unit for the picture.

>>> import numpy as np
>>> gather = np.zeros((4, 100), dtype=np.float32)
>>> gather[1:] = np.sin(np.arange(100) * 2 * np.pi * 25 * 0.004)
>>> qc = gather_qc(gather, dt_ms=4.0, key_value=101)
>>> qc.dead_traces, qc.non_finite, round(qc.dominant_hz)
(1, 0, 25)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import array_api_compat
import numpy as np

if TYPE_CHECKING:
    from seisproc.jobs.units import UnitResult

__all__ = [
    "GatherQc",
    "JobQc",
    "QC_GATHERS_KEPT",
    "SPECTRUM_TRACES",
    "THUMBNAIL_INTERVAL_S",
    "THUMBNAIL_SAMPLES",
    "THUMBNAIL_TRACES",
    "Thumbnail",
    "gather_qc",
    "thumbnail",
]

QC_GATHERS_KEPT = 2000
"""Gathers a :class:`JobQc` keeps figures of (the most recent); totals count them all."""
SPECTRUM_TRACES = 8
"""Live traces, evenly spread over the gather, whose spectra give the dominant frequency."""
THUMBNAIL_TRACES = 96
THUMBNAIL_SAMPLES = 128
THUMBNAIL_CLIP = 99.0
"""Percentile of the absolute amplitudes a thumbnail's ±1 stands for (a display clip)."""
THUMBNAIL_INTERVAL_S = 0.25
"""A worker pictures a job's gathers at most this often: the dashboard redraws a few
times a second, and one picture costs about as much as the QC figures of ten gathers."""


@dataclass(frozen=True)
class GatherQc:
    """Quality figures of one processed gather."""

    key_value: int
    """The gather's header value (FFID, CDP...)."""
    traces: int
    rms: float
    """RMS amplitude of the gather's finite samples; 0.0 when it has none."""
    dead_traces: int
    """Traces with every sample equal (all zeros, typically): no signal at all."""
    non_finite: int
    """NaN and ±Inf samples: a processing step blew up, or the input carries them."""
    dominant_hz: float | None
    """Peak of the mean amplitude spectrum of up to :data:`SPECTRUM_TRACES` live traces;
    ``None`` when no trace is live and finite."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GatherQc:
        hz = data.get("dominant_hz")
        return cls(key_value=int(data["key_value"]), traces=int(data["traces"]),
                   rms=float(data["rms"]), dead_traces=int(data["dead_traces"]),
                   non_finite=int(data["non_finite"]),
                   dominant_hz=None if hz is None else float(hz))


@dataclass(frozen=True, eq=False)
class Thumbnail:
    """A processed gather shrunk for a variable-density picture.

    ``data`` is float32 of shape ``(traces, samples)``, at most
    :data:`THUMBNAIL_TRACES` x :data:`THUMBNAIL_SAMPLES`, scaled so that ±1 is the
    gather's 99th percentile of absolute amplitude (larger ones are clipped; the largest
    amplitude where that percentile is zero), NaN and Inf shown as 0. Traces are picked
    evenly across the gather; each thumbnail sample is the largest (signed) sample of its
    time window, so reflections survive the decimation that an average would wash out.
    It crosses process boundaries as float16.
    """

    key_value: int
    dt_ms: float
    """Time step between the thumbnail's samples (the gather's, times the decimation)."""
    data: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Thumbnail):
            return NotImplemented
        return (self.key_value == other.key_value and self.dt_ms == other.dt_ms
                and np.array_equal(self.data, other.data))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _thumbnail_from_wire, (self.key_value, self.dt_ms, self.data.astype(np.float16))


def _thumbnail_from_wire(key_value: int, dt_ms: float, data: np.ndarray) -> Thumbnail:
    return Thumbnail(key_value, dt_ms, data.astype(np.float32))


@dataclass(frozen=True)
class JobQc:
    """The QC of one job so far: recent gathers' figures, totals, the last picture.

    Immutable: :meth:`add` returns the updated QC, so a reader on another thread (the
    GUI) always holds a consistent one.
    """

    gathers: tuple[GatherQc, ...] = ()
    """The last :data:`QC_GATHERS_KEPT` gathers measured, most recent last."""
    thumbnail: Thumbnail | None = None
    """The last processed gather that came with a picture."""
    non_finite: int = 0
    """NaN/Inf samples in every gather seen, not only the kept ones."""
    dead_traces: int = 0
    gathers_seen: int = 0

    def add(self, result: UnitResult) -> JobQc:
        """This QC with a finished unit's figures and thumbnail folded in."""
        return self.extend(result.qc, result.thumbnail)

    def extend(self, gathers: Iterable[GatherQc], thumbnail: Thumbnail | None = None) -> JobQc:
        """This QC with more gathers (e.g. from a ``UNIT_COMPLETED`` event's ``qc``)."""
        new = tuple(gathers)
        if not new and thumbnail is None:
            return self
        return JobQc(gathers=(self.gathers + new)[-QC_GATHERS_KEPT:],
                     thumbnail=thumbnail or self.thumbnail,
                     non_finite=self.non_finite + sum(g.non_finite for g in new),
                     dead_traces=self.dead_traces + sum(g.dead_traces for g in new),
                     gathers_seen=self.gathers_seen + len(new))

    @property
    def last(self) -> GatherQc | None:
        """The most recent gather's figures."""
        return self.gathers[-1] if self.gathers else None


# ---------------------------------------------------------------------- measuring
def gather_qc(data: Any, dt_ms: float, key_value: int) -> GatherQc:
    """Measure one processed gather ``(traces, samples)`` sampled every ``dt_ms``.

    ``data`` may be any array-API array (a torch tensor on a GPU): only per-trace
    figures and the few traces of the spectrum are moved to the host.
    """
    n_traces = int(data.shape[0])
    if n_traces == 0 or int(data.shape[1]) == 0:
        return GatherQc(key_value, n_traces, 0.0, 0, 0, None)
    hi, lo, non_finite, sum_squares = _trace_extremes(data)
    dead = hi == lo
    finite_rows = None if non_finite == 0 else np.isfinite(hi) & np.isfinite(lo)
    if finite_rows is not None:
        dead &= finite_rows
    finite_samples = n_traces * int(data.shape[1]) - non_finite
    rms = math.sqrt(sum_squares / finite_samples) if finite_samples else 0.0
    live = np.flatnonzero(~dead if finite_rows is None else finite_rows & ~dead)
    return GatherQc(key_value, n_traces, rms, int(np.count_nonzero(dead)), non_finite,
                    _dominant_hz(data, live, dt_ms))


def _trace_extremes(data: Any) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Per-trace max and min (NaN where a trace has one), the NaN/Inf count and the sum
    of squares of the finite samples.

    Max and min propagate NaN, so they tell which traces are not finite; a finite gather
    (nearly always) then needs one dot product more and no full ``isfinite`` pass.
    """
    if not isinstance(data, np.ndarray):
        return _trace_extremes_array_api(data)
    hi, lo = data.max(axis=1), data.min(axis=1)
    if np.isfinite(hi).all() and np.isfinite(lo).all():
        flat = data.reshape(-1)
        with np.errstate(over="ignore"):  # float32 overflow: redone in float64 below
            sum_squares = float(np.dot(flat, flat))
        if math.isfinite(sum_squares):
            return hi, lo, 0, sum_squares
    finite = np.isfinite(data)
    clean = np.where(finite, data, 0).astype(np.float64).reshape(-1)
    return hi, lo, int(data.size - np.count_nonzero(finite)), float(np.dot(clean, clean))


def _trace_extremes_array_api(data: Any) -> tuple[np.ndarray, np.ndarray, int, float]:
    xp = array_api_compat.array_namespace(data)
    finite = xp.isfinite(data)
    clean = xp.where(finite, data, xp.zeros_like(data))
    bad = int(data.shape[0]) * int(data.shape[1]) - int(xp.sum(xp.astype(finite, xp.int64)))
    sum_squares = float(xp.sum(clean * clean))
    return (_host(xp.max(data, axis=1)), _host(xp.min(data, axis=1)), bad, sum_squares)


def _host(data: Any) -> np.ndarray:
    """``data`` as a host numpy array (a copy only when it lives elsewhere)."""
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(array_api_compat.to_device(data, "cpu"))


def _rows(data: Any, rows: np.ndarray) -> np.ndarray:
    """Some traces of ``data`` on the host, as float32."""
    if isinstance(data, np.ndarray):
        return np.asarray(data[rows], dtype=np.float32)
    xp = array_api_compat.array_namespace(data)
    index = xp.asarray(rows, device=array_api_compat.device(data))
    return np.asarray(_host(xp.take(data, index, axis=0)), dtype=np.float32)


def _spread(n: int, most: int) -> np.ndarray:
    """Up to ``most`` indices evenly spread over ``range(n)``, first and last included."""
    if n <= most:
        return np.arange(n)
    return np.arange(most) * (n - 1) // (most - 1)


def _dominant_hz(data: Any, live: np.ndarray, dt_ms: float) -> float | None:
    n_samples = int(data.shape[1])
    if live.size == 0 or n_samples < 4 or dt_ms <= 0:
        return None
    traces = _rows(data, live[_spread(live.size, SPECTRUM_TRACES)])
    traces -= np.add.reduce(traces, axis=1, keepdims=True) / n_samples
    import scipy.fft  # on first use: half a second a command need not pay

    n_fft = int(scipy.fft.next_fast_len(n_samples, real=True))
    amplitude = np.add.reduce(np.abs(scipy.fft.rfft(traces, n=n_fft, axis=-1)), axis=0)
    amplitude[0] = 0.0
    peak = int(np.argmax(amplitude))
    if amplitude[peak] <= 0:
        return None
    return (peak + _vertex(amplitude, peak)) * 1000.0 / (n_fft * dt_ms)


def _vertex(values: np.ndarray, peak: int) -> float:
    """Offset (in bins, within ±0.5) of the parabola through the peak and its neighbours."""
    if peak == 0 or peak == len(values) - 1:
        return 0.0
    left, centre, right = (float(v) for v in values[peak - 1: peak + 2])
    curvature = left - 2 * centre + right
    return 0.0 if curvature >= 0 else 0.5 * (left - right) / curvature


def thumbnail(data: Any, dt_ms: float, key_value: int) -> Thumbnail:
    """A small picture of one processed gather (see :class:`Thumbnail`).

    >>> import numpy as np
    >>> picture = thumbnail(np.ones((480, 1000), dtype=np.float32), 2.0, 7)
    >>> picture.data.shape, picture.dt_ms
    ((96, 125), 16.0)
    """
    n_traces, n_samples = int(data.shape[0]), int(data.shape[1])
    if n_traces == 0 or n_samples == 0:
        return Thumbnail(key_value, dt_ms, np.zeros((n_traces, 0), dtype=np.float32))
    traces = _rows(data, _spread(n_traces, THUMBNAIL_TRACES))
    traces[~np.isfinite(traces)] = 0.0
    step = -(-n_samples // THUMBNAIL_SAMPLES)
    picture = _peaks(traces, step)
    magnitude = np.abs(picture)
    scale = float(np.percentile(magnitude, THUMBNAIL_CLIP)) or float(magnitude.max())
    if scale > 0:
        np.clip(picture / scale, -1.0, 1.0, out=picture)
    return Thumbnail(key_value, dt_ms * step, picture.astype(np.float32))


def _peaks(traces: np.ndarray, step: int) -> np.ndarray:
    """Each window of ``step`` samples replaced by its largest-magnitude sample.

    The windows' max and min are taken one window offset at a time: numpy reduces a
    short last axis an order of magnitude slower than it combines whole arrays.
    """
    if step == 1:
        return traces
    n_traces, n_samples = traces.shape
    padded = np.zeros((n_traces, -(-n_samples // step) * step), dtype=np.float32)
    padded[:, :n_samples] = traces
    windows = padded.reshape(n_traces, -1, step)
    hi, lo = windows[:, :, 0].copy(), windows[:, :, 0].copy()
    for offset in range(1, step):
        np.maximum(hi, windows[:, :, offset], out=hi)
        np.minimum(lo, windows[:, :, offset], out=lo)
    return np.where(hi >= -lo, hi, lo)
