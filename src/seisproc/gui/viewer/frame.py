"""What the viewer shows of one gather, computed off the GUI thread: plain numpy, no Qt.

Reading the gather, running the flow on it, decoding its headers and taking its spectra
all happen in :func:`load_frame`, on the viewer's worker thread; the widgets only draw the
:class:`GatherFrame` that comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from seisproc.errors import SeisprocError
from seisproc.io.headers import HeaderField, header_field, known_header_keys, read_column
from seisproc.io.index import GatherIndex
from seisproc.io.segy import SegyFile
from seisproc.jobs.units import gather_context
from seisproc.processing.base import Processor
from seisproc.processing.preview import amplitude_spectrum, preview_gather

__all__ = ["GatherFrame", "load_frame", "trace_axis", "clip_value", "decode_headers",
           "COMMON_HEADERS", "MAX_TRACES_SHOWN"]

MAX_TRACES_SHOWN = 4096
"""Traces of one gather the viewer reads at most: a key that every trace shares (an unset
header) makes the whole file one gather, which must not be read into memory to draw."""

COMMON_HEADERS = (
    "FieldRecord", "TraceNumber", "CDP", "offset", "EnergySourcePoint", "SourceX", "SourceY",
    "GroupX", "GroupY", "CDP_X", "CDP_Y", "INLINE_3D", "CROSSLINE_3D", "TRACE_SEQUENCE_FILE",
)
"""Headers shown for every trace, even when zero; the others only when set in the gather."""

_UNIFORM_TOLERANCE = 0.1
"""How far (as a fraction of the mean step) offsets may stray from even spacing and still
be drawn on an offset axis: header offsets are whole metres, so 12.5 m steps read 12, 13."""


@dataclass(frozen=True, eq=False)
class GatherFrame:
    """One gather as displayed: samples before (and after) the flow, headers, spectra."""

    gather: int
    """Number of the gather in its index, from 0."""
    key: str
    """segyio name of the gather key, e.g. ``FieldRecord``."""
    key_value: int
    """The gather's value of that key."""
    sample_interval_ms: float
    before: np.ndarray
    """Samples as read, float32 ``(n_traces, n_samples)``."""
    x_positions: np.ndarray
    """Where each trace is drawn: its offset (m) or its number in the gather (from 1)."""
    x_label: str
    headers: dict[str, np.ndarray]
    """Header name to one int64 value per trace, common headers first."""
    spectrum_hz: np.ndarray
    before_db: np.ndarray
    """Average amplitude spectrum of ``before``, dB re its peak."""
    after: np.ndarray | None = None
    """Samples after the flow; ``None`` without a flow or when it failed."""
    after_db: np.ndarray | None = None
    error: str | None = None
    """Why the flow could not run on this gather, for the person tuning it."""
    gather_traces: int = 0
    """Traces in the whole gather; more than :attr:`n_traces` when it was cut short."""

    @property
    def n_traces(self) -> int:
        return int(self.before.shape[0])

    @property
    def difference(self) -> np.ndarray | None:
        """``after - before``, or ``None`` without an ``after``."""
        if self.after is None:
            return None
        return np.asarray(self.after - self.before, dtype=np.float32)


def load_frame(segy: SegyFile, index: GatherIndex, gather: int,
               processors: Sequence[Processor] | None = None,
               max_traces: int = MAX_TRACES_SHOWN) -> GatherFrame:
    """Read gather ``gather`` of ``index`` (its first ``max_traces`` traces) and, with
    ``processors``, run them on it.

    A processing error does not raise: it is kept in :attr:`GatherFrame.error` so the
    viewer still shows the gather as read. An error reading the file does raise.
    """
    positions = index.positions(gather)
    samples, raw_headers = segy.read(positions[:max_traces])
    key_value = int(index.keys[gather])
    context = gather_context(segy, raw_headers)  # what a job's processors are given
    offsets = context.offsets_m
    dt_ms = segy.layout.sample_interval_ms
    x_positions, x_label = trace_axis(offsets, context.cdps)
    freqs, before_db = amplitude_spectrum(samples, dt_ms)
    after = after_db = error = None
    if processors:
        try:
            where = f"{segy.path.name}: gather {index.key}={key_value}, "
            after = preview_gather(processors, samples, context, where).after
            after_db = amplitude_spectrum(after, dt_ms)[1]
        except SeisprocError as exc:
            error = str(exc)
    return GatherFrame(gather, index.key, key_value, dt_ms, samples, x_positions, x_label,
                       decode_headers(raw_headers, segy.layout.endian), freqs, before_db,
                       after, after_db, error, len(positions))


def trace_axis(offsets_m: np.ndarray | None,
               cdps: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Trace positions along the x axis and its label.

    Offsets when they step evenly in one direction (a shot gather sorted by channel), so
    the axis reads in metres; else CDP numbers when they do (a stacked or migrated
    section, whose offsets are all 0); otherwise trace numbers from 1, since an image
    needs a regular grid and repeated or scattered values would pile traces up.
    """
    for values, label in ((offsets_m, "Offset (m)"), (cdps, "CDP")):
        if values is not None and _evenly_stepped(np.asarray(values, dtype=np.float64)):
            return np.asarray(values, dtype=np.float64), label
    count = len(offsets_m) if offsets_m is not None else len(cdps) if cdps is not None else 0
    return np.arange(1, count + 1, dtype=np.float64), "Trace"


def _evenly_stepped(values: np.ndarray) -> bool:
    if len(values) < 2:
        return False
    mean = float(values[-1] - values[0]) / (len(values) - 1)
    steps = np.diff(values)
    return mean != 0 and bool(np.all(np.abs(steps - mean) <= _UNIFORM_TOLERANCE * abs(mean)))


def clip_value(data: np.ndarray, percentile: float) -> float:
    """The amplitude at ``percentile`` of ``|data|``: the display saturates beyond it.

    Falls back to the largest amplitude, then to 1, so a quiet or dead gather still draws.
    """
    magnitudes = np.abs(np.asarray(data, dtype=np.float32))
    finite = magnitudes[np.isfinite(magnitudes)]
    if finite.size == 0:
        return 1.0
    clip = float(np.percentile(finite, percentile))
    if clip > 0:
        return clip
    peak = float(finite.max())
    return peak if peak > 0 else 1.0


@cache
def _all_fields() -> tuple[HeaderField, ...]:
    """Every trace-header word once, in byte order."""
    unique = {f.name: f for f in (header_field(k) for k in known_header_keys())}
    return tuple(sorted(unique.values(), key=lambda f: f.byte))


def decode_headers(raw_headers: np.ndarray, endian: str) -> dict[str, np.ndarray]:
    """Header words of a gather by segyio name: :data:`COMMON_HEADERS` first, then, in
    byte order, every other word that is non-zero on at least one trace."""
    columns = {f.name: read_column(raw_headers, f, endian) for f in _all_fields()}
    shown = {name: columns[name] for name in COMMON_HEADERS if name in columns}
    shown.update({name: values for name, values in columns.items()
                  if name not in shown and np.any(values)})
    return shown
