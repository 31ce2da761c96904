"""Units of work: a few gathers, processed and written where they belong.

A unit carries everything a worker needs (trace positions, not an index), so workers stay
stateless: they open the input and the partial output once, then process whatever units
they are given. Writing each trace at its own position makes units independent and
idempotent: any order, any worker, and a unit redone after a crash rewrites the same bytes.

A unit's result is returned only once its traces are durable on the node that wrote them
(one ``fdatasync`` of the partial output per unit), because the driver records a unit as
done, and never redoes it, as soon as the result arrives. On a shared file system (NFS)
only the writing node can flush its own cache; see :mod:`seisproc.io.writer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.errors import ProcessingError
from seisproc.io.headers import header_field, read_column, write_column
from seisproc.io.segy import SegyFile, SegyLayout, open_segy
from seisproc.io.writer import SegyWriter
from seisproc.jobs.qc import THUMBNAIL_INTERVAL_S, GatherQc, Thumbnail, gather_qc, thumbnail
from seisproc.jobs.stages import StageClock, Stages
from seisproc.processing.base import GatherContext, Processor
from seisproc.processing.device import ArrayBackend
from seisproc.processing.flow import Flow
from seisproc.processing.preview import reduce_steps, run_steps

__all__ = ["GatherRef", "WorkUnit", "UnitResult", "UnitProcessor", "GatherInput",
           "gather_context"]

_CDP = header_field("cdp")
_DELRT = header_field("delrt")


def gather_context(segy: SegyFile, headers: np.ndarray) -> GatherContext:
    """What the processors may know about a gather of ``segy`` with these raw headers:
    the one place a job, a parameter test and the viewer take it from, so a step that
    runs in one runs the same in the others."""
    endian = segy.layout.endian
    return GatherContext(
        segy.layout.sample_interval_ms, segy.offsets_m(headers),
        cdps=read_column(headers, _CDP, endian),
        delays_ms=read_column(headers, _DELRT, endian).astype(np.float64))


@dataclass(frozen=True)
class GatherRef:
    """One gather: its header value and the file positions of its traces."""

    key_value: int
    positions: np.ndarray
    out_positions: np.ndarray | None = None
    """Where its output traces go, when its stage changes the trace count (planned
    before any work); ``None``: each trace back where it was read."""


@dataclass(frozen=True)
class WorkUnit:
    """A few consecutive gathers, numbered within their job."""

    number: int
    gathers: tuple[GatherRef, ...]

    @property
    def n_traces(self) -> int:
        return sum(len(g.positions) for g in self.gathers)


@dataclass(frozen=True)
class UnitResult:
    """The small record a unit sends back; traces themselves are already on disk."""

    number: int
    traces: int
    gathers: int
    seconds: float
    sum_squares_in: float
    sum_squares_out: float
    non_finite: int = 0
    finished_at: float = 0.0
    """Wall-clock time (``time.time()``) the unit's traces were durable on disk: the start
    of the progress-delivery latency the driver is measured by."""
    qc: tuple[GatherQc, ...] = ()
    """Quality figures of each processed gather, in the unit's order."""
    thumbnail: Thumbnail | None = None
    """A small picture of the unit's last processed gather; ``None`` when the worker
    made one less than :data:`~seisproc.jobs.qc.THUMBNAIL_INTERVAL_S` ago."""
    stages: Stages = ()
    """Seconds the unit spent per stage (:mod:`seisproc.jobs.stages`)."""


StopCheck = Callable[[], bool]

GatherInput = tuple[np.ndarray, np.ndarray, int]
"""One gather as read: samples ``(n_traces, n_samples)`` float32, raw headers, key value."""


class _Tally:
    """Running sums of a unit, and its gathers' QC, for its :class:`UnitResult`."""

    def __init__(self) -> None:
        self.traces = 0
        self.ss_in = self.ss_out = 0.0
        self.non_finite = 0
        self.qc: list[GatherQc] = []

    def add(self, samples: np.ndarray, out: np.ndarray, qc: GatherQc) -> None:
        """Count one gather; its output's energy comes from the QC's RMS (one pass less)."""
        self.traces += len(samples)
        self.ss_in += float(np.dot(samples.ravel(), samples.ravel()))
        self.non_finite += qc.non_finite
        self.ss_out += qc.rms * qc.rms * (out.size - qc.non_finite)
        self.qc.append(qc)


@dataclass(frozen=True)
class WrittenUnit:
    """A unit whose traces are written but not yet durable (:meth:`UnitProcessor.write_unit`)."""

    unit: WorkUnit
    tally: _Tally
    clock: StageClock
    started: float
    """``time.perf_counter()`` when its work began."""
    thumbnail: Thumbnail | None


def _out_positions(gather: GatherRef, n_out: int) -> np.ndarray:
    """Where a gather's ``n_out`` processed traces go: as planned, or where they were read."""
    positions = gather.positions if gather.out_positions is None else gather.out_positions
    if len(positions) != n_out:
        raise ProcessingError(f"gather {gather.key_value}: the flow made {n_out} traces where "
                              f"the plan has room for {len(positions)}")
    return positions


class UnitProcessor:
    """Applies one flow to units of one input, writing into one partial output.

    Parameters
    ----------
    backend
        Where the processors run: ``None`` for numpy on this CPU; an
        :class:`~seisproc.processing.device.ArrayBackend` (a GPU worker's torch device)
        to move each gather there, process it and move the result back.
    """

    def __init__(self, flow: Flow, partial_path: Path, output_layout: SegyLayout,
                 backend: ArrayBackend | None = None) -> None:
        self.flow = flow
        self.processors: list[Processor] = flow.processors()
        last = self.processors[-1] if self.processors else None
        self.reducer = last if last is not None and last.output_traces != "same" else None
        """The stage's last step when it changes the trace count (``stack``)."""
        self.partial_path = Path(partial_path)
        self.backend = backend
        self._input: SegyFile = open_segy(flow.input)
        self._writer = SegyWriter(partial_path, output_layout)
        self._dt_ms = self._input.layout.sample_interval_ms
        self._picture_due = 0.0
        """Monotonic time from which the next unit brings a thumbnail back."""
        self._clock = StageClock()
        """The running unit's stage times (see :mod:`seisproc.jobs.stages`)."""

    @property
    def n_samples(self) -> int:
        """Samples per trace of the input."""
        return self._input.layout.n_samples

    def run(self, unit: WorkUnit, should_stop: StopCheck | None = None) -> UnitResult | None:
        """Process and write ``unit``; ``None`` if ``should_stop`` said so between batches
        (between gathers unless a subclass groups them, see :meth:`batches`).

        The result comes back only after :meth:`sync` made the unit's traces durable, once
        per unit: whoever receives it may record the unit as done. A stopped unit is not
        synced: it is not reported, and will be redone whole.
        """
        written = self.write_unit(unit, should_stop)
        return None if written is None else self.make_durable(written)

    def write_unit(self, unit: WorkUnit, should_stop: StopCheck | None = None
                   ) -> WrittenUnit | None:
        """The first half of :meth:`run`: read, process and write ``unit``, not yet durable.

        A worker that holds two units calls :meth:`make_durable` for this one outside the
        lock that keeps its units' work one at a time, so the wait for the disk overlaps
        the next unit's work instead of idling the CPU. Not thread-safe: one call at a time.
        """
        start = time.perf_counter()
        tally = _Tally()
        clock = self._clock = StageClock()
        last: tuple[int, np.ndarray] | None = None
        for batch in self.batches(unit.gathers):
            if should_stop is not None and should_stop():
                return None
            records = [self._input.read_records(gather.positions) for gather in batch]
            clock.lap("read")
            reads = [(self._input.samples_of(r), r["header"]) for r in records]
            clock.lap("decode")
            inputs = [(samples, headers, g.key_value)
                      for g, (samples, headers) in zip(batch, reads, strict=True)]
            if self.reducer is None:
                outs = self.process_gathers(inputs)
                heads = [headers for _, headers in reads]
            else:
                outs, heads = self.reduce_gathers(inputs)
            if self.backend is not None:
                clock.lap("device")  # a batch's transfers, and the kernels waited for
            for gather, (samples, _), out, head in zip(batch, reads, outs, heads, strict=True):
                tally.add(samples, out, gather_qc(out, self._dt_ms, gather.key_value))
                clock.lap("qc")
                packed = self._writer.pack(head, out)
                clock.lap("encode")
                self._writer.write_records(_out_positions(gather, len(out)), packed)
                clock.lap("write")
                last = gather.key_value, out
        return WrittenUnit(unit, tally, clock, start, self._picture(last))

    def make_durable(self, written: WrittenUnit) -> UnitResult:
        """The second half of :meth:`run`: sync what :meth:`write_unit` wrote, and the
        unit's result. Safe beside another unit's :meth:`write_unit` (one ``fdatasync``)."""
        self.sync()
        written.clock.lap("sync")
        tally = written.tally
        return UnitResult(written.unit.number, tally.traces, len(written.unit.gathers),
                          time.perf_counter() - written.started, tally.ss_in, tally.ss_out,
                          tally.non_finite, finished_at=time.time(), qc=tuple(tally.qc),
                          thumbnail=written.thumbnail,
                          stages=tuple((n, s) for n, s in written.clock.stages() if s > 0))

    def _picture(self, last: tuple[int, np.ndarray] | None) -> Thumbnail | None:
        """A thumbnail of the unit's last gather, if one is due (see ``THUMBNAIL_INTERVAL_S``)."""
        now = time.monotonic()
        if last is None or now < self._picture_due:
            return None
        self._picture_due = now + THUMBNAIL_INTERVAL_S
        return thumbnail(last[1], self._dt_ms, last[0])

    def batches(self, gathers: Sequence[GatherRef]) -> list[Sequence[GatherRef]]:
        """Groups of gathers read and processed together: one at a time here, so a stop
        lands between gathers; a GPU worker groups as many as its memory holds."""
        return [(gather,) for gather in gathers]

    def process_gathers(self, gathers: Sequence[GatherInput]) -> list[np.ndarray]:
        """Process one batch (see :meth:`batches`): each gather on its own here."""
        return [self.process_gather(*gather) for gather in gathers]

    def reduce_gathers(self, gathers: Sequence[GatherInput]
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gathers through a stage whose last step changes the trace count: the output
        traces and their raw headers (the step's source traces', with its header words
        set). One gather at a time, on the backend's device if there is one."""
        outs, heads = [], []
        endian = self._input.layout.endian
        for samples, headers, key_value in gathers:
            context = self.context(headers)
            data = samples if self.backend is None else self.backend.to_device(samples)
            where = f"{self.flow.input.name}: gather {self.flow.gather_by}={key_value}, "
            reduced = reduce_steps(self.processors, data, context, where, lap=self._clock.lap)
            out = reduced.samples if self.backend is None else self.backend.to_host(
                reduced.samples)
            head = np.array(headers[np.asarray(reduced.source_traces, dtype=np.int64)])
            for name, values in reduced.header_values.items():
                write_column(head, header_field(name), np.asarray(values), endian)
            outs.append(np.asarray(out, dtype=np.float32))
            heads.append(head)
        return outs, heads

    def context(self, headers: np.ndarray) -> GatherContext:
        """What the processors may know about a gather with these raw headers."""
        return gather_context(self._input, headers)

    def process_gather(self, samples: np.ndarray, headers: np.ndarray,
                       key_value: int) -> np.ndarray:
        """Apply every step to one gather (on the backend's device if there is one)."""
        data = samples if self.backend is None else self.backend.to_device(samples)
        data = self.apply_steps(data, self.context(headers), key_value)
        out = data if self.backend is None else self.backend.to_host(data)
        return np.asarray(out, dtype=np.float32)

    def apply_steps(self, data: Any, context: GatherContext, key_value: int) -> Any:
        """Every processor in turn on ``data`` (numpy or a device array), in its namespace.

        An error names the file, the gather and the step; an unexpected one keeps the
        original as its ``__cause__`` (a GPU worker looks there for out-of-memory errors).
        """
        where = f"{self.flow.input.name}: gather {self.flow.gather_by}={key_value}, "
        return run_steps(self.processors, data, context, where, lap=self._clock.lap)

    def sync(self) -> None:
        """Make every trace written so far durable (``fdatasync`` of the partial output),
        here, on the node that wrote them."""
        self._writer.sync()

    def close(self) -> None:
        self._writer.close()
        self._input.close()

    def __enter__(self) -> UnitProcessor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
