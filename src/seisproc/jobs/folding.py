"""Folding the units that came back into their jobs: checkpoint, then announce.

Completions that arrive together are decided one by one (a unit's error, a lost worker,
a unit of a job that is paused, cancelling or over: see :mod:`seisproc.jobs.decisions`);
the units kept are made durable with one checkpoint write and fsync per job, the jobs'
fsyncs at once (:meth:`~seisproc.jobs.checkpoints.CheckpointStore.append_batch`), and
only then announced. A failure on one job's completion fails that job; the rest of the
batch, other jobs' units included, is still folded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from seisproc.errors import ProcessingError
from seisproc.jobs.decisions import Effect, Event, decide
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import JobError, JobState
from seisproc.jobs.ports import Completion
from seisproc.jobs.qc import JobQc
from seisproc.jobs.units import UnitResult

if TYPE_CHECKING:
    from seisproc.jobs.scheduler import Scheduler

__all__ = ["fold_completions", "unit_error"]

MAX_UNIT_RETRIES = 3
QC_JOBS_KEPT = 64
"""Jobs whose QC stays in memory; beyond it, finished jobs' QC is forgotten, oldest first."""


def fold_completions(scheduler: Scheduler, completions: Sequence[Completion]) -> None:
    """Decide each completion, checkpoint the kept units per job, then announce them."""
    kept: list[Completion] = []
    for completion in completions:
        scheduler.guarded(completion.job_id, _decide_one, scheduler, completion, kept)
    by_job: dict[str, list[Completion]] = {}
    for completion in kept:
        by_job.setdefault(completion.job_id, []).append(completion)
    failures = _record(scheduler, by_job)
    for job_id, units in by_job.items():
        scheduler.guarded(job_id, _after_record, scheduler, job_id, units,
                          failures.get(job_id))


def _record(scheduler: Scheduler,
            by_job: dict[str, list[Completion]]) -> dict[str, Exception]:
    """Record the batch's units, its jobs' fsyncs at once; the jobs whose record failed."""
    numbers = {job_id: [c.unit.number for c in units] for job_id, units in by_job.items()}
    try:
        return dict(scheduler.checkpoints.append_batch(numbers))
    except Exception as exc:  # a bug, not the disk: each job of the batch fails with it
        return dict.fromkeys(by_job, exc)


def _decide_one(scheduler: Scheduler, completion: Completion, kept: list[Completion]) -> None:
    run = scheduler.runs.get(completion.job_id)
    job = scheduler.jobs.get(completion.job_id)
    if run is None or job is None:
        return  # the run was forgotten (handed off, or restarted): nothing to account
    run.landed()
    if completion.worker_lost:
        event = Event.WORKER_LOST
    elif completion.error is not None:
        event = Event.UNIT_FAILED
    elif completion.result is None:
        return  # dropped on request: the job was stopped
    else:
        event = Event.UNIT_DONE
    decision = decide(job.state, event, committing=run.committing)
    if Effect.KEEP_UNIT in decision.effects:
        assert completion.result is not None
        if run.keep(completion.unit, completion.result):
            kept.append(completion)
    elif Effect.RETRY_UNIT in decision.effects:
        _retry(scheduler, completion)
    elif event is Event.UNIT_FAILED and decision.to is not None:
        scheduler.on(job.id, event, error=unit_error(completion))


def _retry(scheduler: Scheduler, completion: Completion) -> None:
    run = scheduler.runs.get(completion.job_id)
    assert run is not None
    tries = run.give_back(completion.unit)
    job = scheduler.jobs[completion.job_id]
    detail = {"unit": completion.unit.number, "node": completion.node, "tries": tries}
    scheduler.writer.announce(JobEvent(JobEventKind.WORKER_LOST, job, detail=detail))
    if tries > MAX_UNIT_RETRIES:
        scheduler.on(job.id, Event.RETRIES_EXHAUSTED, error=JobError("WorkerLost", (
            f"unit {completion.unit.number} lost its worker {tries} times; the job was "
            "stopped")))


def _after_record(scheduler: Scheduler, job_id: str, units: list[Completion],
                  failure: Exception | None) -> None:
    """Announce the job's units, durable now; if their record failed, fail the job."""
    if failure is not None and not isinstance(failure, OSError):
        raise failure  # the scheduler fails the job with it, as an internal error
    if failure is not None:
        job = scheduler.jobs[job_id]
        if job.state.is_active() and job.state is not JobState.CANCELLING:
            scheduler.on(job_id, Event.UNIT_FAILED, error=JobError("OSError", (
                f"{scheduler.checkpoints.path(job_id)}: cannot record progress: {failure}")))
        return
    for completion in units:
        _announce(scheduler, completion)


def _announce(scheduler: Scheduler, completion: Completion) -> None:
    """PROGRESS, then UNIT_COMPLETED, for a unit whose checkpoint is durable."""
    result, run = completion.result, scheduler.runs.get(completion.job_id)
    job = scheduler.jobs.get(completion.job_id)
    if result is None or run is None or job is None or job.state.is_terminal():
        return
    nodes = job.nodes if not completion.node or completion.node in job.nodes else (
        *job.nodes, completion.node)
    job = dataclasses.replace(job, progress=run.progress(), nodes=nodes)
    scheduler.jobs[job.id] = job
    run.unsaved = True
    unit = {"unit": completion.unit.number, "seconds": result.seconds,
            "traces": result.traces, "node": completion.node}
    scheduler.writer.announce(JobEvent(JobEventKind.PROGRESS, job, detail=unit))
    _record_qc(scheduler, job.id, result)
    scheduler.writer.announce(JobEvent(JobEventKind.UNIT_COMPLETED, job, detail={
        **unit, "non_finite": result.non_finite,
        "qc": [gather.to_dict() for gather in result.qc], "stages": dict(result.stages)}))


def _record_qc(scheduler: Scheduler, job_id: str, result: UnitResult) -> None:
    """Fold a unit's QC into its job's; forget the oldest finished jobs' beyond the bound."""
    qc = scheduler.qc
    qc[job_id] = qc.get(job_id, JobQc()).add(result)
    qc.move_to_end(job_id)
    excess = len(qc) - QC_JOBS_KEPT
    if excess > 0:
        finished = [i for i in qc if i not in scheduler.jobs
                    or scheduler.jobs[i].state.is_terminal()]
        for old in finished[:excess]:
            qc.pop(old, None)


def unit_error(completion: Completion) -> JobError:
    """The job's error for a unit that raised, naming the gather when the data did it."""
    exc = completion.error
    assert exc is not None
    gather = None
    if isinstance(exc, ProcessingError) and "gather " in str(exc):
        gather = str(exc).split("gather ", 1)[1].split(",", 1)[0]
    return JobError(type(exc).__name__, str(exc), completion.traceback, gather)
