"""Turning a validated flow into work: checks, the gather index, the pre-created output.

Everything that can be refused is refused here, before any trace is processed: an output
that would overwrite the input or an existing file, a gather key the file lacks, processor
parameters that do not fit the data (a corner above Nyquist).

Units are not materialised: :class:`UnitCut` is a sequence over the gather index that
makes a :class:`~seisproc.jobs.units.WorkUnit` when the scheduler asks for one, so a plan
of a million units costs the index (4 bytes a trace, memory-mapped) and nothing per unit.
Cutting every unit up front held one ``WorkUnit`` and its gathers' position arrays per
unit on the driver for the whole job: about 1 KB a unit before its traces.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np

from seisproc._version import __version__
from seisproc.errors import OutputError, ParameterError
from seisproc.io.index import GatherIndex, gather_index
from seisproc.io.scan import ScanRanges
from seisproc.io.segy import SegyLayout, open_segy
from seisproc.io.writer import create_output, output_file_header, output_layout
from seisproc.jobs.staging import section_index
from seisproc.jobs.units import GatherRef, WorkUnit
from seisproc.processing.flow import Flow

__all__ = ["JobPlan", "UnitCut", "plan_job", "partial_path_for", "cut_units",
           "check_output_folder", "check_output_path", "check_processors", "output_starts"]

DEFAULT_GATHERS_PER_UNIT = 4


@dataclass(frozen=True)
class JobPlan:
    """What a run of a flow needs: the units and where their traces go."""

    flow: Flow
    partial_path: Path
    output_layout: SegyLayout
    units: UnitCut
    """Made on demand, numbered from 0; ``len(units)`` costs nothing."""
    n_gathers: int
    n_traces: int
    """Traces of the input (what progress counts)."""
    n_traces_out: int = -1
    """Traces of the output: ``n_traces`` unless the stage's last step changes the count."""


def partial_path_for(output: Path, tag: str = "") -> Path:
    """Hidden temporary name beside the output; the final name appears only when done."""
    suffix = f".{tag}" if tag else ""
    return output.with_name(f".{output.name}{suffix}.seisproc-partial")


def check_output_path(flow: Flow, overwrite: bool) -> None:
    """Refuse to overwrite the input, ever, and an existing output unless asked."""
    out, inp = flow.output, flow.input
    if out == inp or (out.exists() and inp.exists() and os.path.samefile(out, inp)):
        raise OutputError(f"{out}: the output is the input file; seisproc never overwrites "
                          "its input: choose another output name")
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: the output already exists; use --overwrite to replace it")
    if out.is_dir():
        raise OutputError(f"{out}: the output is a folder; give a file name")
    if not out.parent.is_dir():
        raise OutputError(f"{out.parent}: the output folder does not exist")


def check_output_folder(output: Path) -> None:
    """Refuse an output folder this process may not write in: the claim, the partial
    file and the output are all made there, and ``submit()`` refuses at once what the
    claim, created a moment later off the caller's thread, would fail on."""
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise OutputError(f"{output.parent}: the output folder is not writable by you; "
                          "write the output where you may")


class UnitCut(Sequence[WorkUnit]):
    """Consecutive gathers of an index, ``gathers_per_unit`` at a time, numbered from 0,
    each :class:`WorkUnit` made when it is asked for.

    >>> from seisproc.io.index import build_index
    >>> units = cut_units(build_index(np.array([7, 7, 8, 9, 9]), "FieldRecord"), 2)
    >>> len(units), units[1].gathers[0].key_value, units.n_traces_of(np.array([0, 1]))
    (2, 9, 5)
    """

    def __init__(self, index: GatherIndex, gathers_per_unit: int,
                 out_starts: np.ndarray | None = None) -> None:
        if gathers_per_unit < 1:
            raise ValueError(f"{gathers_per_unit} gathers per unit: at least 1 is needed")
        self.gathers = index
        """The gather index the units are cut from."""
        self.gathers_per_unit = gathers_per_unit
        self.out_starts = out_starts
        """Gather ``g``'s output traces are ``out_starts[g]:out_starts[g + 1]`` of the
        output, in gather order; ``None``: each trace is written where it was read."""
        self._len = -(-len(index) // gathers_per_unit)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, number: int) -> WorkUnit: ...
    @overload
    def __getitem__(self, number: slice) -> tuple[WorkUnit, ...]: ...

    def __getitem__(self, number: int | slice) -> WorkUnit | tuple[WorkUnit, ...]:
        if isinstance(number, slice):
            return tuple(self[i] for i in range(*number.indices(self._len)))
        if number < 0:
            number += self._len
        if not 0 <= number < self._len:
            raise IndexError(f"unit {number} of {self._len}")
        first = number * self.gathers_per_unit
        last = min(first + self.gathers_per_unit, len(self.gathers))
        keys, index, out = self.gathers.keys, self.gathers, self.out_starts
        return WorkUnit(number, tuple(  # copies: a unit travels without the mapped index
            GatherRef(int(keys[g]), np.array(index.positions(g), dtype=np.int64),
                      None if out is None else np.arange(out[g], out[g + 1], dtype=np.int64))
            for g in range(first, last)))

    def __iter__(self) -> Iterator[WorkUnit]:
        return (self[i] for i in range(self._len))

    def __mul__(self, times: int) -> tuple[WorkUnit, ...]:
        """Every unit, ``times`` over (tests queue a plan's units several times)."""
        return tuple(self) * times

    def n_traces_of(self, numbers: np.ndarray) -> int:
        """Traces in the units ``numbers``, from the index alone (no unit is made)."""
        numbers = np.asarray(numbers, dtype=np.int64)
        starts = self.gathers.starts
        first = numbers * self.gathers_per_unit
        last = np.minimum(first + self.gathers_per_unit, len(self.gathers))
        return int((starts[last].astype(np.int64) - starts[first].astype(np.int64)).sum())


def cut_units(index: GatherIndex, gathers_per_unit: int = DEFAULT_GATHERS_PER_UNIT,
              ) -> UnitCut:
    """Consecutive gathers, ``gathers_per_unit`` at a time, numbered from 0 (lazily)."""
    return UnitCut(index, gathers_per_unit)


def plan_job(flow: Flow, *, overwrite: bool = False, tag: str = "",
             gathers_per_unit: int = DEFAULT_GATHERS_PER_UNIT, create: bool = True,
             scan: ScanRanges | None = None,
             on_scanned: Callable[[int, int], None] | None = None,
             partial: Path | None = None, cache: bool = True,
             provenance: list[str] | None = None) -> JobPlan:
    """Validate ``flow`` (one stage) against its data, index the input and pre-create
    the output.

    ``create=False`` plans against an existing partial output (resuming a job).
    ``scan`` reads the gather key's header column on the workers (see
    :mod:`seisproc.io.scan`); ``on_scanned`` hears the traces read so far. ``partial``:
    the file to write (a stage's; by default the output's hidden partial with ``tag``).
    ``cache=False`` leaves the index out of the index cache (a stage's intermediate,
    read by one job). ``provenance``: the lines stamped in the output's textual header
    (by default the flow's summary; a stage's run stamps the whole flow's).
    A last step that changes the trace count (``stack``) makes an output of its count,
    each gather's traces in gather order (CDPs ascending).
    """
    if create:
        check_output_path(flow, overwrite)
    with open_segy(flow.input) as segy:
        lay = segy.layout
        check_processors(flow, lay)
        if flow.gather_by.strip().lower() == "section":
            index = section_index(lay.n_traces)
        else:
            index = gather_index(segy, flow.gather_by, scan=scan, on_scanned=on_scanned,
                                 cache=cache)
        partial = partial if partial is not None else partial_path_for(flow.output, tag)
        out_starts = output_starts(flow, index)
        n_out = index.n_traces if out_starts is None else int(out_starts[-1])
        out_layout = dataclasses.replace(output_layout(lay), n_traces=n_out)
        if create:
            stamped = [f"SEISPROC {__version__}", *(provenance or flow.summary_lines())]
            create_output(partial, output_file_header(segy, stamped), out_layout)
    units = UnitCut(index, gathers_per_unit, out_starts)
    return JobPlan(flow, partial, out_layout, units, len(index), index.n_traces, n_out)


def check_processors(flow: Flow, layout: SegyLayout) -> None:
    """Refuse parameters that cannot apply to data of ``layout`` (every stage's steps)."""
    staged = flow.stages is not None
    for stage_number, stage in enumerate(flow.all_stages(), start=1):
        where = f"stage {stage_number}, " if staged else ""
        for number, step in enumerate(stage.steps, start=1):
            processor = step.build()
            try:
                processor.check(layout.sample_interval_ms, layout.n_samples)
            except ParameterError as exc:
                raise ParameterError(f"{flow.input.name}: {where}step {number} "
                                     f"({processor.name}): {exc}") from None


def output_starts(flow: Flow, index: GatherIndex) -> np.ndarray | None:
    """Where each gather's output traces begin, when the last step changes the count
    (``len(index) + 1`` entries); ``None`` when every trace is written where it was read."""
    last = flow.steps[-1].build()
    if last.output_traces == "same":
        return None
    counts = np.array([last.traces_out(int(n)) for n in np.diff(index.starts.astype(np.int64))],
                      dtype=np.int64)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
