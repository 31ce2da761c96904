"""Jobs: the domain of the job engine (no Ray, no database inside).

Planning a flow into units of work, per-gather QC figures, the job record and its life
cycle, the decision table (every event in every state), events, the :class:`JobManager`
and its scheduler, checkpoints bound to their plan, ownership leases, and the ports
adapters implement. See ``docs/architecture.md``.
"""

from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.decisions import Decision, Effect, Event, decide
from seisproc.jobs.events import EventBus, JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager, JobNotFound
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType
from seisproc.jobs.plan import JobPlan, plan_job
from seisproc.jobs.ports import (
    Completion,
    ControlRequest,
    Executor,
    JobSpec,
    JobStore,
    StaleOwner,
)
from seisproc.jobs.qc import GatherQc, JobQc, Thumbnail
from seisproc.jobs.starting import CheckpointMismatch
from seisproc.jobs.transitions import IllegalTransition, transition
from seisproc.jobs.units import GatherRef, UnitProcessor, UnitResult, WorkUnit

__all__ = [
    "CheckpointMismatch",
    "CheckpointStore",
    "Completion",
    "ControlRequest",
    "Decision",
    "Effect",
    "Event",
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
    "StaleOwner",
    "Thumbnail",
    "UnitProcessor",
    "UnitResult",
    "WorkUnit",
    "decide",
    "plan_job",
    "transition",
]
