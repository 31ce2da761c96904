"""Jobs: the domain of the job engine (no Ray, no database inside).

Planning a flow into units of work, per-gather QC figures, the job record and its life
cycle, events, the :class:`JobManager` driver, checkpoints, and the ports adapters
implement.
"""

from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import EventBus, JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager, JobNotFound
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType
from seisproc.jobs.plan import JobPlan, plan_job
from seisproc.jobs.ports import Completion, ControlRequest, Executor, JobSpec, JobStore
from seisproc.jobs.qc import GatherQc, JobQc, Thumbnail
from seisproc.jobs.transitions import IllegalTransition, transition
from seisproc.jobs.units import GatherRef, UnitProcessor, UnitResult, WorkUnit

__all__ = [
    "CheckpointStore",
    "Completion",
    "ControlRequest",
    "EventBus",
    "Executor",
    "GatherQc",
    "GatherRef",
    "IllegalTransition",
    "Job",
    "JobError",
    "JobEvent",
    "JobEventKind",
    "JobManager",
    "JobNotFound",
    "JobPlan",
    "JobProgress",
    "JobQc",
    "JobSpec",
    "JobState",
    "JobStore",
    "JobType",
    "Thumbnail",
    "UnitProcessor",
    "UnitResult",
    "WorkUnit",
    "plan_job",
    "transition",
]
