"""How two SEG-Y outputs differ: identical or not, and per gather by how much and where.

Both files are read once, side by side, in chunks of whole traces into two reused
buffers, so memory stays about a megabyte for a survey of any size and the comparison
costs little more than reading the traces (``benchmarks/output_diff.py``: the target is
1.5x the time of reading both files' traces once). A chunk whose bytes are equal (one
``memcmp``) is not decoded at all: A's energy there is needed only for a gather that
differs elsewhere, and is read back at the end for those gathers alone, so two identical
files cost about their reading. Elsewhere each trace's difference gives its sum of
squares and its largest absolute value. Gathers are accumulated by their header value as
traces stream past, so a file need not be sorted by its gather key.

Each gather's figure is the RMS of A - B relative to the RMS of A (0 where they agree,
``inf`` where A is all zeros and B is not), with the largest absolute difference and where
it is: the trace within the gather (counted from 0 in file order), its position in the
file, and the sample (and its time).
"""

from __future__ import annotations

import math
import os
from collections.abc import Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seisproc.errors import SeisprocError
from seisproc.io.headers import header_field, read_column
from seisproc.io.samples import decode
from seisproc.io.segy import SegyFile, open_segy
from seisproc.production.trace_differences import trace_figures

__all__ = [
    "GatherDiff",
    "OutputDiff",
    "OutputsNotComparable",
    "diff_outputs",
    "read_gather_pair",
    "CHUNK_BYTES",
]

CHUNK_BYTES = 2**18
"""Bytes of each file read, compared and decoded per step. At 256 KiB a step's bytes are
still in the cache when they are decoded, and the decoded samples, their difference and
decoding's temporaries are handed back by the allocator step after step; from 512 KiB
to 8 MiB it returned some to the system and faulted them in again (20,000-85,000 page
faults per 95 MB pair, for the diff and for a plain decoding read alike; 256 KiB:
100-500), and the diff took 1.5-2x as long."""


class OutputsNotComparable(SeisprocError):
    """The two files do not hold the same traces (count, samples, interval, format)."""


@dataclass
class GatherDiff:
    """The difference of one gather, A - B."""

    key: int
    """The gather's header value (``ffid=1003``)."""
    traces: int = 0
    sum_squares_a: float = 0.0
    sum_squares_diff: float = 0.0
    max_abs_diff: float = 0.0
    max_trace: int = 0
    """Trace of the largest difference within the gather, from 0 in file order."""
    max_position: int = 0
    """The same trace's position in the file, from 0."""
    max_sample: int = 0
    runs: list[tuple[int, int]] = field(default_factory=list, repr=False)
    """Trace positions of the gather, as ``[start, stop)`` runs, for drawing it."""
    unscored: list[tuple[int, int]] = field(default_factory=list, repr=False)
    """Runs of byte-identical traces whose energy in A is not yet in ``sum_squares_a``
    (needed only if the gather differs elsewhere: :func:`_score_unscored`)."""

    @property
    def relative_rms(self) -> float:
        """RMS of A - B over RMS of A (both over the gather's samples)."""
        if self.sum_squares_diff == 0.0:
            return 0.0
        if self.sum_squares_a == 0.0:
            return math.inf
        return math.sqrt(self.sum_squares_diff / self.sum_squares_a)

    def positions(self) -> np.ndarray:
        """Every trace position of the gather, in file order."""
        return (
            np.concatenate([np.arange(a, b) for a, b in self.runs])
            if self.runs
            else np.zeros(0, np.int64)
        )


@dataclass(frozen=True)
class OutputDiff:
    """The comparison of two SEG-Y files."""

    path_a: str
    path_b: str
    gather_key: str
    sample_interval_ms: float
    identical: bool
    """Every byte is the same (file headers, trace headers, samples)."""
    file_headers_differ: bool
    trace_headers_differ: int
    """Traces whose headers (not samples) differ."""
    gathers: tuple[GatherDiff, ...]
    """Every gather, in key order."""

    def differing(self) -> list[GatherDiff]:
        """Gathers whose samples differ, the most different (relative RMS) first."""
        return sorted(
            (g for g in self.gathers if g.sum_squares_diff > 0 or g.max_abs_diff),
            key=lambda g: (-g.relative_rms, g.key),
        )

    def worst(self) -> GatherDiff | None:
        """The gather that differs most, or ``None`` when the samples agree."""
        differing = self.differing()
        return differing[0] if differing else None

    def lines(self, limit: int = 10) -> list[str]:
        """The report: a verdict line, then up to ``limit`` gathers, most different first."""
        if self.identical:
            return [f"outputs identical ({len(self.gathers)} gathers, every byte the same)"]
        differing = self.differing()
        head = (
            f"outputs differ: {len(differing)} of {len(self.gathers)} gathers' samples, "
            f"{self.trace_headers_differ} trace headers"
            + (", the file headers" if self.file_headers_differ else "")
        )
        rows = [
            f"  {self.gather_key}={g.key}: rms(A-B)/rms(A) {g.relative_rms:.3g}, "
            f"max |A-B| {g.max_abs_diff:.4g} at trace {g.max_trace} (file trace "
            f"{g.max_position}), sample {g.max_sample} "
            f"({g.max_sample * self.sample_interval_ms / 1000:.3f} s)"
            for g in differing[:limit]
        ]
        if len(differing) > limit:
            rows.append(f"  ... and {len(differing) - limit} more gathers")
        return [head, *rows]


def diff_outputs(
    path_a: str | os.PathLike[str],
    path_b: str | os.PathLike[str],
    gather_by: str = "ffid",
    chunk_bytes: int = CHUNK_BYTES,
) -> OutputDiff:
    """Compare two SEG-Y files trace by trace, per gather of header ``gather_by``.

    Raises :class:`OutputsNotComparable` when they do not hold the same number of traces
    of the same length, interval and sample format.

    >>> diff_outputs("a.sgy", "b.sgy").worst().key            # doctest: +SKIP
    1003
    """
    field_ = header_field(gather_by)
    with open_segy(path_a) as a, open_segy(path_b) as b:
        _check_comparable(a, b)
        gathers: dict[int, GatherDiff] = {}
        header_diffs = 0
        identical = a.file_header_bytes == b.file_header_bytes and os.path.getsize(
            a.path
        ) == os.path.getsize(b.path)
        with closing(_chunks(a, b, chunk_bytes)) as chunks:
            for chunk in chunks:
                keys = read_column(chunk.records_a["header"], field_, a.layout.endian)
                identical &= chunk.samples_b is None
                if chunk.samples_b is None:
                    _fold_identical(gathers, chunk.start, keys)
                    continue
                headers_a, headers_b = chunk.records_a["header"], chunk.records_b["header"]
                header_diffs += int(np.any(headers_a != headers_b, axis=1).sum())
                samples_a = decode(chunk.records_a["samples"], a.layout.format)
                _fold_differing(gathers, chunk.start, keys, samples_a, chunk.samples_b)
        _score_unscored(a, gathers.values())
    return OutputDiff(
        str(path_a),
        str(path_b),
        gather_by,
        a.layout.sample_interval_ms,
        bool(identical),
        a.file_header_bytes != b.file_header_bytes,
        header_diffs,
        tuple(gathers[k] for k in sorted(gathers)),
    )


def _check_comparable(a: SegyFile, b: SegyFile) -> None:
    la, lb = a.layout, b.layout
    facts = [
        ("traces", la.n_traces, lb.n_traces),
        ("samples", la.n_samples, lb.n_samples),
        ("sample interval (ms)", la.sample_interval_ms, lb.sample_interval_ms),
        ("sample format", la.format.name, lb.format.name),
        ("trace header extensions", la.trace_header_extensions, lb.trace_header_extensions),
    ]
    for what, va, vb in facts:
        if va != vb:
            raise OutputsNotComparable(
                f"{a.path} and {b.path} cannot be compared trace by trace: {what} {va} vs {vb}"
            )


@dataclass(frozen=True)
class _Chunk:
    """Consecutive traces of both files; the records are valid until the next chunk is
    taken, when their buffers are read into again."""

    start: int
    """The first trace's position in the file, from 0."""
    records_a: np.ndarray
    records_b: np.ndarray
    samples_b: np.ndarray | None
    """B's samples as float32, or ``None`` where every byte equals A's."""


def _chunks(a: SegyFile, b: SegyFile, chunk_bytes: int) -> Generator[_Chunk, None, None]:
    """Both files' chunks in order, read into two buffers reused throughout, B's samples
    decoded where the bytes differ. The buffers are ``bytearray``: their ``==`` is a
    ``memcmp`` (of slices, a copy first), ten times faster than numpy's element-wise
    comparison. Close it (``contextlib.closing``) to close the files at once."""
    layout = a.layout
    per_chunk = max(1, min(chunk_bytes // layout.trace_bytes, layout.n_traces))
    buffers = [bytearray(per_chunk * layout.trace_bytes) for _ in "ab"]
    fds = [os.open(path, os.O_RDONLY) for path in (a.path, b.path)]
    try:
        for start in range(0, layout.n_traces, per_chunk):
            count = min(per_chunk, layout.n_traces - start)
            size = count * layout.trace_bytes
            offset = layout.data_offset + start * layout.trace_bytes
            for fd, buffer, segy in zip(fds, buffers, (a, b), strict=True):
                if os.preadv(fd, [memoryview(buffer)[:size]], offset) != size:
                    raise SeisprocError(
                        f"{segy.path}: short read at trace {start}: the "
                        "file changed or was truncated while compared"
                    )
            records_a, records_b = (
                np.frombuffer(buffer, layout.record_dtype(), count) for buffer in buffers
            )
            same = _equal(buffers, layout.trace_bytes, size)
            samples_b = None if same else decode(records_b["samples"], layout.format)
            yield _Chunk(start, records_a, records_b, samples_b)
    finally:
        for fd in fds:
            os.close(fd)


def _equal(buffers: list[bytearray], probe: int, size: int) -> bool:
    """Whether the first ``size`` bytes of the two buffers are equal. Traces that differ
    nearly always differ from a chunk's first on, so its first ``probe`` bytes (a trace)
    are compared alone first: microseconds, where the whole chunk's ``memcmp`` (and the
    copies of a last, shorter chunk) take a sixth of decoding it."""
    a, b = buffers
    if a[:probe] != b[:probe]:
        return False
    return a == b if size == len(a) else a[:size] == b[:size]


def _spans(keys: np.ndarray) -> list[tuple[int, int]]:
    """``[lo, hi)`` runs of a chunk's traces that share a gather key."""
    edges = np.flatnonzero(np.diff(keys)) + 1
    return list(zip([0, *edges.tolist()], [*edges.tolist(), len(keys)], strict=True))


def _fold_identical(gathers: dict[int, GatherDiff], start: int, keys: np.ndarray) -> None:
    """Count a byte-identical chunk's traces into their gathers, A's energy left for
    :func:`_score_unscored`."""
    for lo, hi in _spans(keys):
        gather = gathers.setdefault(int(keys[lo]), GatherDiff(int(keys[lo])))
        gather.unscored.append((start + lo, start + hi))
        _add_run(gather, start + lo, start + hi)


def _fold_differing(
    gathers: dict[int, GatherDiff],
    start: int,
    keys: np.ndarray,
    samples_a: np.ndarray,
    samples_b: np.ndarray,
) -> None:
    """Add a chunk's traces to their gathers' figures; ``samples_b`` is overwritten.

    Per trace (:func:`~seisproc.production.trace_differences.trace_figures`), sums of
    squares and the largest difference; per gather, float64 sums of those, which add up
    millions of traces.
    """
    figures = trace_figures(samples_a, samples_b)
    for lo, hi in _spans(keys):
        gather = gathers.setdefault(int(keys[lo]), GatherDiff(int(keys[lo])))
        _add_differences(gather, start + lo, figures.max_diff[lo:hi], figures.where[lo:hi])
        gather.sum_squares_a += float(figures.energy_a[lo:hi].sum())
        gather.sum_squares_diff += float(figures.energy_diff[lo:hi].sum())
        _add_run(gather, start + lo, start + hi)


def _add_differences(gather: GatherDiff, first: int, max_d: np.ndarray, where: np.ndarray) -> None:
    """Keep the largest difference of the gather's traces from ``first`` on (call before
    :func:`_add_run` counts them)."""
    best = int(np.argmax(max_d))
    if max_d[best] > gather.max_abs_diff or np.isnan(max_d[best]):
        gather.max_abs_diff = float(max_d[best])
        gather.max_trace = gather.traces + best
        gather.max_position = first + best
        gather.max_sample = int(where[best])


def _add_run(gather: GatherDiff, first: int, stop: int) -> None:
    """Count traces ``[first, stop)`` into the gather and its runs."""
    gather.traces += stop - first
    if gather.runs and gather.runs[-1][1] == first:
        gather.runs[-1] = (gather.runs[-1][0], stop)
    else:
        gather.runs.append((first, stop))


def _score_unscored(a: SegyFile, gathers: Iterable[GatherDiff]) -> None:
    """Add A's energy of the byte-identical runs of the gathers that differ elsewhere
    (their relative RMS needs it); the others' figures are 0 whatever it is."""
    for gather in gathers:
        if gather.sum_squares_diff > 0 or gather.max_abs_diff:
            for first, stop in gather.unscored:
                samples = a.read_samples(np.arange(first, stop)).astype(np.float64)
                # float64 per trace, as the differing chunks' sums are (trace_figures)
                gather.sum_squares_a += float(np.einsum("ij,ij->", samples, samples))
        gather.unscored.clear()


def read_gather_pair(
    path_a: str | os.PathLike[str], path_b: str | os.PathLike[str], gather: GatherDiff
) -> tuple[np.ndarray, np.ndarray]:
    """The samples of ``gather`` in both files, float32 ``(traces, samples)``."""
    positions = gather.positions()
    with open_segy(Path(path_a)) as a, open_segy(Path(path_b)) as b:
        return a.read_samples(positions), b.read_samples(positions)
