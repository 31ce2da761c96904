"""Jobs: planning a flow into units of work and running them."""

from seisproc.jobs.local import RunSummary, run_flow
from seisproc.jobs.plan import JobPlan, plan_job
from seisproc.jobs.units import GatherRef, UnitProcessor, UnitResult, WorkUnit

__all__ = [
    "GatherRef",
    "JobPlan",
    "RunSummary",
    "UnitProcessor",
    "UnitResult",
    "WorkUnit",
    "plan_job",
    "run_flow",
]
