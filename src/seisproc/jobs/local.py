"""Running a flow in this process, one unit after another.

This is the foundation's executor; the Ray engine takes its place for jobs. It shares the
planning and unit code with the engine, so both produce byte-identical outputs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seisproc.io.writer import commit_output, discard_output
from seisproc.jobs.plan import DEFAULT_GATHERS_PER_UNIT, JobPlan, plan_job
from seisproc.jobs.units import UnitProcessor, UnitResult
from seisproc.processing.flow import Flow

__all__ = ["RunSummary", "run_flow", "summarize"]

ProgressCallback = Callable[[UnitResult, JobPlan], None]


@dataclass(frozen=True)
class RunSummary:
    """What a finished run did, for people and for benchmarks."""

    flow_name: str
    input: Path
    output: Path
    n_gathers: int
    n_traces: int
    seconds: float
    rms_in: float
    rms_out: float
    non_finite: int
    bytes_written: int

    @property
    def traces_per_s(self) -> float:
        return self.n_traces / self.seconds if self.seconds > 0 else math.inf


def summarize(plan: JobPlan, results: list[UnitResult], seconds: float) -> RunSummary:
    """Fold unit results into a :class:`RunSummary`."""
    n_values = max(plan.n_traces * plan.output_layout.n_samples, 1)
    return RunSummary(
        plan.flow.name, plan.flow.input, plan.flow.output, plan.n_gathers, plan.n_traces,
        seconds,
        math.sqrt(sum(r.sum_squares_in for r in results) / n_values),
        math.sqrt(sum(r.sum_squares_out for r in results) / n_values),
        sum(r.non_finite for r in results),
        plan.flow.output.stat().st_size if plan.flow.output.exists() else 0,
    )


def run_flow(flow: Flow, *, overwrite: bool = False, progress: ProgressCallback | None = None,
             gathers_per_unit: int = DEFAULT_GATHERS_PER_UNIT) -> RunSummary:
    """Run ``flow`` to completion in this process.

    The output appears under its final name only when every trace is written; on any
    error or interrupt the partial output is removed and the error propagates.
    """
    start = time.perf_counter()
    plan = plan_job(flow, overwrite=overwrite, gathers_per_unit=gathers_per_unit)
    results: list[UnitResult] = []
    try:
        with UnitProcessor(flow, plan.partial_path, plan.output_layout) as worker:
            for unit in plan.units:
                result = worker.run(unit)
                assert result is not None  # no stop check was given
                results.append(result)
                if progress is not None:
                    progress(result, plan)
        commit_output(plan.partial_path, flow.output)
    except BaseException:
        discard_output(plan.partial_path)
        raise
    return summarize(plan, results, time.perf_counter() - start)
