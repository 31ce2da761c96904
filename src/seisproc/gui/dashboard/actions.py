"""Pause, resume and cancel from the dashboard: which jobs allow what, and who acts.

A job belongs to the process whose JobManager runs it. Jobs of this process are acted on
directly; a job run by another live process (a ``seisproc run`` in a terminal) gets a
control request in the job history, which that process picks up within a fraction of a
second, as ``seisproc pause`` does. An interrupted job (its process died) is adopted by
this process on resume or cancel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from seisproc.errors import SeisprocError
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import owner_alive

__all__ = ["JobAction", "PendingAction", "allowed", "apply_action", "jobs_text"]

S = JobState


class JobAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


_FROM: dict[JobAction, frozenset[JobState]] = {
    JobAction.PAUSE: frozenset({S.QUEUED, S.RUNNING}),
    JobAction.RESUME: frozenset({S.PAUSED, S.INTERRUPTED, S.FAILED}),
    JobAction.CANCEL: frozenset({S.QUEUED, S.WAITING, S.RUNNING, S.PAUSED, S.INTERRUPTED,
                                 S.FAILED}),
}


def allowed(action: JobAction, job: Job) -> bool:
    """Whether ``action`` applies to ``job`` in its present state.

    >>> from seisproc.jobs.model import Job, JobState
    >>> allowed(JobAction.RESUME, Job(id="a1", name="x", state=JobState.COMPLETED))
    False
    """
    return job.state in _FROM[action]


def _remote_message(action: JobAction, sender: str) -> str:
    """What the owning process records when it obeys this window (resume has none)."""
    done = {JobAction.PAUSE: "paused", JobAction.CANCEL: "cancelled"}.get(action)
    return f"{done} from the desktop application on {sender}" if done else ""


def apply_action(manager: JobManager, action: JobAction, jobs: Iterable[Job]) -> list[str]:
    """Apply ``action`` to each job that allows it; returns one line per refusal."""
    problems = []
    for job in jobs:
        if not allowed(action, job):
            continue
        try:
            if job.owner != manager.owner and job.state.is_active() \
                    and owner_alive(job, manager.store):
                manager.store.request_control(job.id, action.value,
                                              _remote_message(action, manager.owner))
            else:
                getattr(manager, action.value)(job.id)
        except SeisprocError as exc:  # finished meanwhile, or being committed
            problems.append(str(exc))
    return problems


_OUTCOME: dict[JobAction, frozenset[JobState]] = {
    JobAction.PAUSE: frozenset({S.PAUSED}),
    JobAction.RESUME: frozenset({S.QUEUED, S.RUNNING}),
    JobAction.CANCEL: frozenset({S.CANCELLED}),
}
_DONE = {JobAction.PAUSE: "paused", JobAction.RESUME: "resumed", JobAction.CANCEL: "cancelled"}


def jobs_text(count: int) -> str:
    """``"1 job"``, ``"3 jobs"``."""
    return f"{count} job{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class PendingAction:
    """An action asked for and not yet seen through: "Cancelling 2 jobs" stands in the
    status bar until the table shows each job got there (or ended otherwise), and is
    then replaced by what happened.

    >>> from seisproc.jobs.model import Job, JobState
    >>> pending = PendingAction(JobAction.CANCEL, ("a1",))
    >>> pending.outcome({"a1": Job(id="a1", name="x", state=JobState.CANCELLING)})
    >>> pending.outcome({"a1": Job(id="a1", name="x", state=JobState.CANCELLED)})
    '1 job cancelled'
    """

    action: JobAction
    job_ids: tuple[str, ...]

    def outcome(self, jobs: Mapping[str, Job]) -> str | None:
        """What happened, once every job has settled; ``None`` while some have not (or
        are not in ``jobs`` yet)."""
        reached = ended = 0
        for job_id in self.job_ids:
            job = jobs.get(job_id)
            if job is None:
                return None
            if job.state in _OUTCOME[self.action]:
                reached += 1
            elif job.state.is_terminal():
                ended += 1
            else:
                return None
        parts = [f"{jobs_text(reached)} {_DONE[self.action]}"] if reached else []
        if ended:
            parts.append(f"{jobs_text(ended)} ended before being {_DONE[self.action]}")
        return "; ".join(parts)
