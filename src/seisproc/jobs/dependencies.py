"""When a job that waits for other jobs may start: a pure judgement of their states.

``seisproc run b.yaml --after JOB`` (or a batch, or a pipeline's earlier flows) submits
a job that waits, WAITING, holding no running slot, until what it waits for has ended
well. The rule, the same for one job and for a batch of forty:

* while any of them is still active (queued, running, paused, interrupted, waiting),
  it waits;
* when any of them FAILED, it does not start and says which and why: resuming the
  failed job (which then completes) or cancelling it (giving up on it: ``seisproc
  cancel`` turns a FAILED job CANCELLED) lets it go on;
* when all of them ended and none failed, it starts if at least one COMPLETED (a batch
  whose failed line was given up on); if every one was cancelled there is nothing to
  wait for any more, and it says so.

The judgement reads only the jobs' records, so any process that sees the history (the
one that submitted the job, or the one that resumes it after a crash) judges the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seisproc.jobs.model import Job, JobState

__all__ = ["Readiness", "judge", "MAX_NAMED"]

S = JobState
MAX_NAMED = 3
"""Jobs a reason names one by one; more are counted."""


@dataclass(frozen=True)
class Readiness:
    """What a waiting job should do now."""

    start: bool
    """Everything it waits for ended well: it may queue for a running slot."""
    blocked: bool
    """It cannot start until someone acts (a failure to resolve, nothing left)."""
    reason: str
    """One line for ``seisproc jobs`` and the dashboard: what it waits for, or why not."""


def judge(waits_for: Sequence[str], jobs: Mapping[str, Job]) -> Readiness:
    """Whether a job that waits for the jobs ``waits_for`` (ids) may start, given the
    records found for them (``jobs``; an id missing there is a job the history lost)."""
    missing = [job_id for job_id in waits_for if job_id not in jobs]
    if missing:
        return Readiness(False, True, f"{_name(missing)} not in the job history: cancel "
                                      "this job and submit it again")
    found = [jobs[job_id] for job_id in waits_for]
    failed = [job for job in found if job.state is S.FAILED]
    if len(failed) == 1:
        job = failed[0]
        why = f": {job.message}" if job.message else ""
        return Readiness(False, True, f"job {job.id} failed{why}; resume (seisproc resume "
                                      f"{job.id}) or cancel (seisproc cancel {job.id}) it "
                                      "to go on")
    if failed:
        first = failed[0]
        why = f" ({first.id}: {first.message})" if first.message else ""
        return Readiness(False, True, f"{_jobs(failed)} failed{why}; resume or cancel "
                                      "each to go on")
    active = [job for job in found if not job.state.is_terminal()]
    if active:
        return Readiness(False, False, f"waiting for {_jobs(active, states=True)}")
    if not any(job.state is S.COMPLETED for job in found):
        return Readiness(False, True, f"{_jobs(found)} cancelled: nothing to wait for "
                                      "any more; cancel this job")
    return Readiness(True, False, f"{_jobs(found)} ended; starting")


def _jobs(jobs: Sequence[Job], *, states: bool = False) -> str:
    shown = [f"{job.id} ({job.state.value})" if states else job.id
             for job in jobs[:MAX_NAMED]]
    more = len(jobs) - MAX_NAMED
    words = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return ("job " if len(jobs) == 1 else "jobs ") + words


def _name(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:MAX_NAMED]) + (f" and {len(ids) - MAX_NAMED} more"
                                          if len(ids) > MAX_NAMED else "")
    return ("job " if len(ids) == 1 else "jobs ") + shown + (" is" if len(ids) == 1 else " are")
