"""Units of work: a few gathers, processed and written where they belong.

A unit carries everything a worker needs (trace positions, not an index), so workers stay
stateless: they open the input and the partial output once, then process whatever units
they are given. Writing each trace at its own position makes units independent and
idempotent: any order, any worker, and a unit redone after a crash rewrites the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.errors import ProcessingError, SeisprocError
from seisproc.io.segy import SegyFile, SegyLayout, open_segy
from seisproc.io.writer import SegyWriter
from seisproc.processing.base import GatherContext, Processor
from seisproc.processing.device import ArrayBackend
from seisproc.processing.flow import Flow

__all__ = ["GatherRef", "WorkUnit", "UnitResult", "UnitProcessor", "GatherInput"]


@dataclass(frozen=True)
class GatherRef:
    """One gather: its header value and the file positions of its traces."""

    key_value: int
    positions: np.ndarray


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
    """Wall-clock time (``time.time()``) the unit's last trace was written: the start of
    the progress-delivery latency the driver is measured by."""


StopCheck = Callable[[], bool]

GatherInput = tuple[np.ndarray, np.ndarray, int]
"""One gather as read: samples ``(n_traces, n_samples)`` float32, raw headers, key value."""


class _Tally:
    """Running sums of a unit, for its :class:`UnitResult`."""

    def __init__(self) -> None:
        self.traces = 0
        self.ss_in = self.ss_out = 0.0
        self.non_finite = 0

    def add(self, samples: np.ndarray, out: np.ndarray) -> None:
        self.traces += len(samples)
        self.ss_in += float(np.dot(samples.ravel(), samples.ravel()))
        finite = np.isfinite(out)
        self.non_finite += int(out.size - np.count_nonzero(finite))
        self.ss_out += float(np.sum(np.square(out, where=finite, out=np.zeros_like(out))))


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
        self.backend = backend
        self._input: SegyFile = open_segy(flow.input)
        self._writer = SegyWriter(partial_path, output_layout)
        self._dt_ms = self._input.layout.sample_interval_ms

    @property
    def n_samples(self) -> int:
        """Samples per trace of the input."""
        return self._input.layout.n_samples

    def run(self, unit: WorkUnit, should_stop: StopCheck | None = None) -> UnitResult | None:
        """Process and write ``unit``; ``None`` if ``should_stop`` said so between batches
        (between gathers unless a subclass groups them, see :meth:`batches`)."""
        start = time.perf_counter()
        tally = _Tally()
        for batch in self.batches(unit.gathers):
            if should_stop is not None and should_stop():
                return None
            reads = [self._input.read(gather.positions) for gather in batch]
            outs = self.process_gathers(
                [(samples, headers, g.key_value)
                 for g, (samples, headers) in zip(batch, reads, strict=True)])
            for gather, (samples, headers), out in zip(batch, reads, outs, strict=True):
                self._writer.write(gather.positions, headers, out)
                tally.add(samples, out)
        return UnitResult(unit.number, tally.traces, len(unit.gathers),
                          time.perf_counter() - start, tally.ss_in, tally.ss_out,
                          tally.non_finite, finished_at=time.time())

    def batches(self, gathers: Sequence[GatherRef]) -> list[Sequence[GatherRef]]:
        """Groups of gathers read and processed together: one at a time here, so a stop
        lands between gathers; a GPU worker groups as many as its memory holds."""
        return [(gather,) for gather in gathers]

    def process_gathers(self, gathers: Sequence[GatherInput]) -> list[np.ndarray]:
        """Process one batch (see :meth:`batches`): each gather on its own here."""
        return [self.process_gather(*gather) for gather in gathers]

    def context(self, headers: np.ndarray) -> GatherContext:
        """What the processors may know about a gather with these raw headers."""
        return GatherContext(self._dt_ms, self._input.offsets_m(headers))

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
        for step, processor in enumerate(self.processors, start=1):
            try:
                data = processor.apply(data, context)
            except SeisprocError as exc:
                raise ProcessingError(self._where(key_value, step, processor) + str(exc)) from None
            except Exception as exc:
                raise ProcessingError(
                    self._where(key_value, step, processor) + f"{type(exc).__name__}: {exc}"
                ) from exc
        return data

    def _where(self, key_value: int, step: int, processor: Processor) -> str:
        return (f"{self.flow.input.name}: gather {self.flow.gather_by}={key_value}, "
                f"step {step} ({processor.name}): ")

    def sync(self) -> None:
        self._writer.sync()

    def close(self) -> None:
        self._writer.close()
        self._input.close()

    def __enter__(self) -> UnitProcessor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
