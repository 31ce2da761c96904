"""Starting a job's run: a fresh plan, or the plan its checkpoint was bound to.

Runs off the scheduler thread (indexing an input reads every trace header). A checkpoint
is trusted only for the plan it records: the input's identity (size, time, a hash of its
headers), the flow, the unit size and count. A resumed job is planned again with the
*recorded* unit size, so a changed default never misplaces a unit; anything else that
differs refuses the resume in one line saying what changed. The first engine trusted bare
unit numbers: resumed with another unit size, a job ended COMPLETED with 72 of 96 traces
all zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seisproc.errors import SeisprocError
from seisproc.io.claim import claim_output
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.fingerprint import (
    PlanFingerprint,
    input_changes,
    input_identity,
    mismatch_message,
    plan_changes,
    plan_fingerprint,
)
from seisproc.jobs.model import Job
from seisproc.jobs.plan import JobPlan, partial_path_for, plan_job
from seisproc.processing.flow import Flow

__all__ = ["CheckpointMismatch", "RunStart", "plan_run", "check_resumable"]


class CheckpointMismatch(SeisprocError):
    """The job's checkpoint belongs to another plan: its input changed since it started."""


@dataclass(frozen=True)
class RunStart:
    """What a job's run starts from."""

    flow: Flow
    plan: JobPlan
    done: set[int]
    """Units its checkpoint records as done (empty for a fresh start)."""
    fingerprint: PlanFingerprint


def plan_run(job: Job, checkpoints: CheckpointStore, gathers_per_unit: int) -> RunStart:
    """Plan ``job``: resume from its checkpoint when it has a trustworthy one, else start
    afresh (a new partial output and a checkpoint bound to the new plan).

    Raises :class:`CheckpointMismatch` when the checkpoint's plan no longer matches, and
    the planning errors of :func:`~seisproc.jobs.plan.plan_job` (a missing input, an
    output that appeared meanwhile without overwrite).
    """
    flow = Flow.model_validate(job.flow)
    recorded = checkpoints.plan(job.id)
    if recorded is not None and partial_path_for(flow.output, job.id).exists():
        plan = plan_job(flow, tag=job.id, create=False,
                        gathers_per_unit=recorded.gathers_per_unit)
        now = plan_fingerprint(flow, plan, recorded.gathers_per_unit)
        changes = plan_changes(recorded, now)
        if changes:
            raise CheckpointMismatch(mismatch_message(job.id, changes))
        return RunStart(flow, plan, checkpoints.load(job.id), recorded)
    claim_output(Path(flow.output), job.id, job.owner)  # a resumed job claims again
    plan = plan_job(flow, overwrite=job.overwrite, tag=job.id,
                    gathers_per_unit=gathers_per_unit)
    fingerprint = plan_fingerprint(flow, plan, gathers_per_unit)
    checkpoints.begin(job.id, fingerprint)
    return RunStart(flow, plan, set(), fingerprint)


def check_resumable(job: Job, checkpoints: CheckpointStore) -> None:
    """Refuse at once (:class:`CheckpointMismatch`) to resume a job whose input changed
    since its checkpoint was written: a stat and a few small reads, cheap enough for the
    caller's thread, so ``seisproc resume`` answers before anything is queued."""
    recorded = checkpoints.plan(job.id)
    if recorded is None:
        return  # nothing to trust: the job starts over
    try:
        now = input_identity(job.input)
    except (OSError, SeisprocError) as exc:
        raise CheckpointMismatch(mismatch_message(job.id, [str(exc)])) from None
    changes = input_changes(recorded.input, now)
    if changes:
        raise CheckpointMismatch(mismatch_message(job.id, changes))
