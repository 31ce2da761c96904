"""A flow's stages as a job runs them: one stage at a time, each a one-stage flow.

Stage ``k`` of ``n`` reads stage ``k - 1``'s output (the job's input for the first) and
writes a hidden *intermediate* beside the final output; the last stage writes the output
itself, through the same partial file and commit as a one-stage job. So every stage is
planned, cut into units, dispatched, checkpointed and resumed exactly as a one-stage job
is: the engine adds only the hand-over from one stage to the next (:func:`finish_stage`)
and the choice, on a resume, of the stage to continue in (:func:`stage_to_run`).

A one-stage flow is its own only stage (:func:`stage_flow` returns it unchanged), so its
files, fingerprint and output are what they were before stages existed.

>>> from seisproc.processing.flow import Flow
>>> flow = Flow.from_mapping({"name": "s", "input": "/d/shots.sgy", "output": "/d/st.sgy",
...     "stages": [{"gather_by": "ffid", "steps": [{"agc": {"window_ms": 200}}]},
...                {"gather_by": "cdp", "steps": [{"stack": {}}]}]})
>>> one = stage_flow(flow, 1, "j1")
>>> one.gather_by, one.output.name, stage_flow(flow, 2, "j1").input.name
('ffid', '.st.sgy.j1.stage1.seisproc-intermediate', '.st.sgy.j1.stage1.seisproc-intermediate')
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydantic

from seisproc.io.index import GatherIndex, gather_index, position_dtype
from seisproc.io.scan import ScanRanges
from seisproc.io.segy import SegyFile
from seisproc.io.writer import discard_output, sync_path
from seisproc.jobs.fingerprint import PlanFingerprint
from seisproc.processing.flow import Flow

__all__ = ["SECTION", "StageProgress", "flow_of", "n_stages", "stage_flow", "intermediate_path",
           "stage_partial_path", "stage_partial_path_of", "job_files", "remove_job_files",
           "remove_intermediates", "finish_stage",
           "stage_to_run", "section_index", "stage_progress"]

SECTION = "section"
"""The ``gather_by`` of a stage that takes the whole file as one gather."""


def flow_of(mapping: dict[str, Any]) -> Flow | None:
    """The flow a job record holds; ``None`` for a record without a valid one (tests'
    bare records, a flow from a later version)."""
    try:
        return Flow.model_validate(mapping)
    except pydantic.ValidationError:
        return None


def n_stages(flow: Flow) -> int:
    """How many stages ``flow`` runs (1 for a one-stage flow)."""
    return len(flow.all_stages())


def intermediate_path(output: Path, job_id: str, number: int) -> Path:
    """Where stage ``number`` (not the last) leaves its output: hidden, beside the output."""
    return output.with_name(f".{output.name}.{job_id}.stage{number}.seisproc-intermediate")


def stage_partial_path(flow: Flow, job_id: str, number: int) -> Path:
    """The file stage ``number`` writes into while it runs. The last stage's is the
    one-stage job's partial output, committed under the output's name."""
    if number == n_stages(flow):
        return stage_partial_path_of(flow.output, job_id)
    return flow.output.with_name(f".{flow.output.name}.{job_id}.stage{number}.seisproc-partial")


def stage_flow(flow: Flow, number: int, job_id: str) -> Flow:
    """Stage ``number`` (from 1) of ``flow`` as a one-stage flow from the previous
    stage's intermediate to its own (or the job's input and output)."""
    if flow.stages is None:
        return flow
    stage, last = flow.stages[number - 1], len(flow.stages)
    source = flow.input if number == 1 else intermediate_path(flow.output, job_id, number - 1)
    target = flow.output if number == last else intermediate_path(flow.output, job_id, number)
    return Flow.model_construct(  # validated as a whole already; paths absolute
        name=flow.name, input=source, output=target, gather_by=stage.gather_by,
        steps=list(stage.steps), stages=None, keep_intermediate=False, device=flow.device)


def job_files(flow: Flow, job_id: str) -> list[Path]:
    """Every file a job of ``flow`` may have made: each stage's partial output and
    intermediate (what a cancelled or failed job leaves nothing of)."""
    count = n_stages(flow)
    files = [stage_partial_path(flow, job_id, k) for k in range(1, count + 1)]
    return files + [intermediate_path(flow.output, job_id, k) for k in range(1, count)]


def remove_job_files(flow_mapping: dict[str, Any], output: str, job_id: str,
                     keep_partial: bool) -> None:
    """Every file a job made (each stage's partial output and intermediate), but the
    last stage's partial output when ``keep_partial`` (a commit that found the output's
    name taken keeps it)."""
    partial = stage_partial_path_of(Path(output), job_id)
    flow = flow_of(flow_mapping)
    for path in [partial] if flow is None else job_files(flow, job_id):
        if not (keep_partial and path == partial):
            discard_output(path)


def stage_partial_path_of(output: Path, job_id: str) -> Path:
    """The last stage's partial output (a one-stage job's): the file its commit renames."""
    return output.with_name(f".{output.name}.{job_id}.seisproc-partial")


def remove_intermediates(flow: Flow, job_id: str) -> None:
    """The stages' outputs, once the job completed (unless ``keep_intermediate``)."""
    if flow.keep_intermediate:
        return
    for k in range(1, n_stages(flow)):
        with contextlib.suppress(OSError):
            discard_output(intermediate_path(flow.output, job_id, k))


def finish_stage(flow: Flow, job_id: str, number: int) -> Path:
    """Stage ``number``'s partial output becomes its intermediate: synced, renamed, the
    folder synced, so a crash leaves either the partial (the stage resumes) or the whole
    intermediate (the next stage starts), never a torn one."""
    partial = stage_partial_path(flow, job_id, number)
    target = intermediate_path(flow.output, job_id, number)
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, target)
    sync_path(target.parent)
    return target


def stage_to_run(flow: Flow, job_id: str, recorded: PlanFingerprint | None
                 ) -> tuple[int, bool]:
    """The stage a (re)started job runs, and whether it resumes that stage's checkpoint.

    The checkpoint says which stage it belongs to. Its partial output still there: that
    stage resumes. Gone, with the stage's intermediate whole: the stage ended (possibly
    just before a crash), the next one starts. Anything else starts from stage 1.
    """
    if recorded is None:
        return 1, False
    number = recorded.stage
    if not 1 <= number <= n_stages(flow):
        return 1, False
    if stage_partial_path(flow, job_id, number).exists():
        return number, True
    if number < n_stages(flow) and intermediate_path(flow.output, job_id, number).exists():
        return number + 1, False
    return 1, False


def section_index(n_traces: int) -> GatherIndex:
    """The whole file as one gather, in file order (``gather_by: section``)."""
    dtype = position_dtype(n_traces)
    return GatherIndex(SECTION, np.array([0], dtype=np.int64),
                       np.arange(n_traces, dtype=dtype), np.array([0, n_traces], dtype=dtype))


@dataclass(frozen=True)
class StageProgress:
    """Where a stage's units and traces stand in the whole job's progress."""

    stage: int = 1
    n_stages: int = 1
    units_before: int = 0
    """Units of the stages before this one (all done)."""
    traces_before: int = 0
    units_total: int | None = None
    """Units of every stage; ``None``: this stage's alone (a one-stage job)."""
    traces_total: int | None = None


def stage_progress(flow: Flow, number: int, segy: SegyFile, gathers_per_unit: int,
                   scan: ScanRanges | None = None) -> StageProgress:
    """Units and traces of every stage, known before they run, from the job's input.

    A stage after stages that keep every trace gathers the input's own headers (the same
    as its intermediate's), so its gathers are counted from the input's index by its key;
    after a stage that changes the trace count, a ``section`` stage is one gather and any
    other is counted as one gather a trace (the CDPs of a stack).
    """
    if flow.stages is None:
        return StageProgress()
    sizes, traces, same_so_far = [], segy.layout.n_traces, True
    for stage in flow.stages:
        if stage.gather_by.strip().lower() == SECTION:
            gathers = 1
        elif same_so_far:
            gathers = len(gather_index(segy, stage.gather_by, scan=scan))
        else:
            gathers = traces
        sizes.append((-(-gathers // gathers_per_unit), traces))
        last = stage.steps[-1].build()
        if last.output_traces != "same":  # a count per gather, whatever came in
            same_so_far = False
            traces = last.traces_out(1) * gathers
    before = sizes[: number - 1]
    return StageProgress(number, len(sizes), sum(u for u, _ in before),
                         sum(t for _, t in before), sum(u for u, _ in sizes),
                         sum(t for _, t in sizes))
