"""Units of work: a few gathers, processed and written where they belong.

A unit carries everything a worker needs (trace positions, not an index), so workers stay
stateless: they open the input and the partial output once, then process whatever units
they are given. Writing each trace at its own position makes units independent and
idempotent: any order, any worker, and a unit redone after a crash rewrites the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seisproc.errors import ProcessingError, SeisprocError
from seisproc.io.segy import SegyFile, SegyLayout, open_segy
from seisproc.io.writer import SegyWriter
from seisproc.processing.base import GatherContext, Processor
from seisproc.processing.flow import Flow

__all__ = ["GatherRef", "WorkUnit", "UnitResult", "UnitProcessor"]


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


class UnitProcessor:
    """Applies one flow to units of one input, writing into one partial output."""

    def __init__(self, flow: Flow, partial_path: Path, output_layout: SegyLayout) -> None:
        self.flow = flow
        self.processors: list[Processor] = flow.processors()
        self._input: SegyFile = open_segy(flow.input)
        self._writer = SegyWriter(partial_path, output_layout)
        self._dt_ms = self._input.layout.sample_interval_ms

    def run(self, unit: WorkUnit, should_stop: StopCheck | None = None) -> UnitResult | None:
        """Process and write ``unit``; ``None`` if ``should_stop`` said so between gathers."""
        start = time.perf_counter()
        traces = 0
        ss_in = ss_out = 0.0
        non_finite = 0
        for gather in unit.gathers:
            if should_stop is not None and should_stop():
                return None
            samples, headers = self._input.read(gather.positions)
            out = self.process_gather(samples, headers, gather.key_value)
            self._writer.write(gather.positions, headers, out)
            traces += len(gather.positions)
            ss_in += float(np.dot(samples.ravel(), samples.ravel()))
            finite = np.isfinite(out)
            non_finite += int(out.size - np.count_nonzero(finite))
            ss_out += float(np.sum(np.square(out, where=finite, out=np.zeros_like(out))))
        return UnitResult(unit.number, traces, len(unit.gathers), time.perf_counter() - start,
                          ss_in, ss_out, non_finite, finished_at=time.time())

    def process_gather(self, samples: np.ndarray, headers: np.ndarray,
                       key_value: int) -> np.ndarray:
        """Apply every step to one gather; an error names the gather and the step."""
        context = GatherContext(self._dt_ms, self._input.offsets_m(headers))
        data = samples
        for step, processor in enumerate(self.processors, start=1):
            try:
                data = processor.apply(data, context)
            except SeisprocError as exc:
                raise ProcessingError(self._where(key_value, step, processor) + str(exc)) from None
            except Exception as exc:
                raise ProcessingError(
                    self._where(key_value, step, processor) + f"{type(exc).__name__}: {exc}"
                ) from exc
        return np.asarray(data, dtype=np.float32)

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
