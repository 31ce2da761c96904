"""What a job must reproduce: a flow applied unit after unit in this process, with no
manager, executor or Ray at all; and the comparison that ignores the textual header
(it names the flow and the job)."""

from __future__ import annotations

from pathlib import Path

from seisproc.io.writer import commit_output
from seisproc.jobs.plan import plan_job
from seisproc.jobs.units import UnitProcessor
from seisproc.processing.flow import Flow


def reference_output(flow: Flow) -> Path:
    """Write ``flow``'s output directly (replacing one already there); returns its path."""
    plan = plan_job(flow, overwrite=True, tag="reference")
    with UnitProcessor(flow, plan.partial_path, plan.output_layout) as worker:
        for unit in plan.units:
            worker.run(unit)
    commit_output(plan.partial_path, flow.output, overwrite=True)
    return flow.output


def same_data(a: Path, b: Path) -> bool:
    """Binary header and every trace byte-identical (the textual header names the flow)."""
    return a.read_bytes()[3200:] == b.read_bytes()[3200:]
