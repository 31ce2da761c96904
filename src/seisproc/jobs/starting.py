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

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seisproc.errors import SeisprocError
from seisproc.io.claim import claim_output
from seisproc.io.scan import ScanRanges
from seisproc.io.segy import open_segy
from seisproc.io.writer import discard_output
from seisproc.jobs.checkpoints import CheckpointStore, UnitSet
from seisproc.jobs.claims import await_claim
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.fingerprint import (
    PlanFingerprint,
    flow_digest,
    input_changes,
    input_identity,
    mismatch_message,
    plan_changes,
    plan_fingerprint,
)
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.plan import JobPlan, check_output_path, check_processors, plan_job
from seisproc.jobs.ports import HeaderScanner
from seisproc.jobs.staging import (
    StageProgress,
    job_files,
    n_stages,
    stage_flow,
    stage_partial_path,
    stage_progress,
    stage_to_run,
)
from seisproc.processing.flow import Flow

if TYPE_CHECKING:
    from seisproc.jobs.scheduler import Scheduler

__all__ = ["CheckpointMismatch", "RunStart", "ScanProgress", "ScanStopped", "plan_run",
           "check_resumable", "scan_reporter", "scanner_of", "show_scan"]

SCAN_REPORT_S = 0.25
"""The header scan of a job's input reports its progress at most this often."""


class CheckpointMismatch(SeisprocError):
    """The job's checkpoint belongs to another plan: its input changed since it started."""


class ScanStopped(SeisprocError):
    """The job was cancelled (or ended) while its input was being indexed: the scan stops
    at the next range instead of holding the cancel until every header is read."""


@dataclass(frozen=True)
class RunStart:
    """What a job's run starts from: one stage of its flow (the only one, mostly)."""

    flow: Flow
    """The running stage as a one-stage flow (the job's flow when it has one stage)."""
    plan: JobPlan
    done: UnitSet
    """Units its checkpoint records as done (empty for a fresh start)."""
    fingerprint: PlanFingerprint
    stage: StageProgress = StageProgress()
    """Which stage runs, and the units and traces of the others (the job's progress)."""


def plan_run(job: Job, checkpoints: CheckpointStore, gathers_per_unit: int, *,
             scan: ScanRanges | None = None,
             on_scanned: Callable[[int, int], None] | None = None) -> RunStart:
    """Plan ``job``: resume from its checkpoint when it has a trustworthy one, else start
    afresh (a new partial output and a checkpoint bound to the new plan).

    A flow with stages continues in the stage its checkpoint was bound to, or starts the
    next one when that stage had ended (:func:`~seisproc.jobs.staging.stage_to_run`).
    ``scan`` reads the input's header column on the workers when the index is not cached
    (see :mod:`seisproc.io.scan`); ``on_scanned`` hears how many traces it has read.

    Raises :class:`CheckpointMismatch` when the checkpoint's plan no longer matches, and
    the planning errors of :func:`~seisproc.jobs.plan.plan_job` (a missing input, an
    output that appeared meanwhile without overwrite).
    """
    whole = Flow.model_validate(job.flow)
    recorded = checkpoints.plan(job.id)
    number, resume = stage_to_run(whole, job.id, recorded)
    flow = stage_flow(whole, number, job.id)
    partial = stage_partial_path(whole, job.id, number)
    last = number == n_stages(whole)
    if resume and recorded is not None:
        plan = plan_job(flow, tag=job.id, create=False, scan=scan, on_scanned=on_scanned,
                        gathers_per_unit=recorded.gathers_per_unit, partial=partial,
                        cache=number == 1)
        now = _fingerprint(whole, flow, plan, recorded.gathers_per_unit, number)
        changes = plan_changes(recorded, now)
        if changes:
            raise CheckpointMismatch(mismatch_message(job.id, changes))
        return RunStart(flow, plan, checkpoints.load(job.id), recorded,
                        _progress(whole, number, recorded.gathers_per_unit, scan))
    if number == 1:
        _start_over(whole, job, partial)
    else:
        claim_output(Path(whole.output), job.id, job.owner)
    plan = plan_job(flow, overwrite=job.overwrite or not last, tag=job.id, scan=scan,
                    on_scanned=on_scanned, gathers_per_unit=gathers_per_unit,
                    partial=partial, cache=number == 1,
                    provenance=whole.summary_lines())
    fingerprint = _fingerprint(whole, flow, plan, gathers_per_unit, number)
    checkpoints.begin(job.id, fingerprint)
    return RunStart(flow, plan, UnitSet(), fingerprint,
                    _progress(whole, number, gathers_per_unit, scan))


def _start_over(whole: Flow, job: Job, partial: Path) -> None:
    """Before stage 1 of a fresh run: the output claimed and refusable, every stage's
    steps checked against the data, and files an earlier attempt left removed."""
    await_claim(job.id)  # a submitted job's claim, being created on the claim thread
    claim_output(Path(whole.output), job.id, job.owner)  # a resumed job claims again
    if whole.stages is None:
        return
    check_output_path(whole, job.overwrite)
    with open_segy(whole.input) as segy:
        check_processors(whole, segy.layout)
    for leftover in job_files(whole, job.id):
        if leftover != partial:
            discard_output(leftover)


def _fingerprint(whole: Flow, flow: Flow, plan: JobPlan, gathers_per_unit: int,
                 number: int) -> PlanFingerprint:
    """The stage's plan, bound to the stage and (for a flow with stages) the whole flow."""
    fingerprint = plan_fingerprint(flow, plan, gathers_per_unit)
    if whole.stages is None:
        return fingerprint
    return dataclasses.replace(fingerprint, stage=number,
                               flow_sha256=flow_digest(whole.to_mapping()))


def _progress(whole: Flow, number: int, gathers_per_unit: int,
              scan: ScanRanges | None) -> StageProgress:
    if whole.stages is None:
        return StageProgress()
    try:  # a later stage reads its intermediate: the input only gives the job's totals
        with open_segy(whole.input) as segy:
            return stage_progress(whole, number, segy, gathers_per_unit, scan)
    except (OSError, SeisprocError):
        return StageProgress(number, len(whole.stages))


def check_resumable(job: Job, checkpoints: CheckpointStore) -> None:
    """Refuse at once (:class:`CheckpointMismatch`) to resume a job whose input changed
    since its checkpoint was written: a stat and a few small reads, cheap enough for the
    caller's thread, so ``seisproc resume`` answers before anything is queued."""
    recorded = checkpoints.plan(job.id)
    if recorded is None:
        return  # nothing to trust: the job starts over
    try:  # a later stage's input is the previous stage's intermediate
        now = input_identity(job.input if recorded.stage == 1 else recorded.input.path)
    except (OSError, SeisprocError) as exc:
        raise CheckpointMismatch(mismatch_message(job.id, [str(exc)])) from None
    changes = input_changes(recorded.input, now)
    if changes:
        raise CheckpointMismatch(mismatch_message(job.id, changes))


@dataclass(frozen=True)
class ScanProgress:
    """The planner read ``traces`` of the ``total`` trace headers of a job's input."""

    job_id: str
    traces: int
    total: int


def scanner_of(executor: object) -> ScanRanges | None:
    """The executor's header scan (:class:`~seisproc.jobs.ports.HeaderScanner`), if it
    has one; without, the planner reads the headers itself."""
    return executor.scan_headers if isinstance(executor, HeaderScanner) else None


def scan_reporter(scheduler: Scheduler, job_id: str) -> Callable[[int, int], None]:
    """What the planner calls as header ranges come in: a :class:`ScanProgress` message
    to the scheduler at most every :data:`SCAN_REPORT_S`, and the last one. Raises
    :class:`ScanStopped` once the job no longer runs (cancelled, ended): read from the
    planner's thread, a look at the scheduler's record of the job."""
    due = 0.0

    def report(traces: int, total: int) -> None:
        nonlocal due
        job = scheduler.jobs.get(job_id)
        if job is None or job.state not in (JobState.RUNNING, JobState.PAUSED):
            raise ScanStopped(f"job {job_id}: stopped while indexing its input "
                              f"({traces:,} of {total:,} trace headers read)")
        now = time.monotonic()
        if now >= due or traces == total:
            due = now + SCAN_REPORT_S
            scheduler.post(ScanProgress(job_id, traces, total))

    return report


def show_scan(scheduler: Scheduler, progress: ScanProgress) -> None:
    """Show the scan on its job, on the scheduler's thread: the job's message, saved with
    its progress and announced as a ``PROGRESS`` event (``detail``: ``scanned``,
    ``traces_total``)."""
    job = scheduler.jobs.get(progress.job_id)
    if job is None or job.state is not JobState.RUNNING or job.id in scheduler.runs:
        return  # planned, stopped or gone meanwhile: the scan is old news
    share = progress.traces / progress.total if progress.total else 1.0
    job = dataclasses.replace(job, message=(
        f"indexing the input: {progress.traces:,} of {progress.total:,} trace headers "
        f"read ({share:.0%})"))
    scheduler.jobs[job.id] = job
    scheduler.writer.save_progress(job)
    scheduler.writer.announce(JobEvent(JobEventKind.PROGRESS, job, detail={
        "scanned": progress.traces, "traces_total": progress.total}))
