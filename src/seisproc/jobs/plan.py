"""Turning a validated flow into work: checks, the gather index, the pre-created output.

Everything that can be refused is refused here, before any trace is processed: an output
that would overwrite the input or an existing file, a gather key the file lacks, processor
parameters that do not fit the data (a corner above Nyquist).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from seisproc._version import __version__
from seisproc.errors import OutputError, ParameterError
from seisproc.io.index import GatherIndex, gather_index
from seisproc.io.segy import SegyLayout, open_segy
from seisproc.io.writer import create_output, output_file_header, output_layout
from seisproc.jobs.units import GatherRef, WorkUnit
from seisproc.processing.flow import Flow

__all__ = ["JobPlan", "plan_job", "partial_path_for", "cut_units", "check_output_path"]

DEFAULT_GATHERS_PER_UNIT = 4


@dataclass(frozen=True)
class JobPlan:
    """What a run of a flow needs: the units and where their traces go."""

    flow: Flow
    partial_path: Path
    output_layout: SegyLayout
    units: tuple[WorkUnit, ...]
    n_gathers: int
    n_traces: int


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


def cut_units(index: GatherIndex, gathers_per_unit: int = DEFAULT_GATHERS_PER_UNIT,
              ) -> tuple[WorkUnit, ...]:
    """Consecutive gathers, ``gathers_per_unit`` at a time, numbered from 0."""
    units = []
    for number, first in enumerate(range(0, len(index), gathers_per_unit)):
        last = min(first + gathers_per_unit, len(index))
        refs = tuple(GatherRef(int(index.keys[g]), index.positions(g)) for g in range(first, last))
        units.append(WorkUnit(number, refs))
    return tuple(units)


def plan_job(flow: Flow, *, overwrite: bool = False, tag: str = "",
             gathers_per_unit: int = DEFAULT_GATHERS_PER_UNIT, create: bool = True) -> JobPlan:
    """Validate ``flow`` against its data, index the input and pre-create the output.

    ``create=False`` plans against an existing partial output (resuming a job).
    """
    if create:
        check_output_path(flow, overwrite)
    with open_segy(flow.input) as segy:
        lay = segy.layout
        for number, processor in enumerate(flow.processors(), start=1):
            try:
                processor.check(lay.sample_interval_ms, lay.n_samples)
            except ParameterError as exc:
                raise ParameterError(f"{flow.input.name}: step {number} ({processor.name}): "
                                     f"{exc}") from None
        index = gather_index(segy, flow.gather_by)
        partial = partial_path_for(flow.output, tag)
        out_layout = output_layout(lay)
        if create:
            provenance = [f"SEISPROC {__version__}", *flow.summary_lines()]
            create_output(partial, output_file_header(segy, provenance), out_layout)
    units = cut_units(index, gathers_per_unit)
    return JobPlan(flow, partial, out_layout, units, len(index), index.n_traces)
