"""Pause, resume and cancel from the dashboard: which jobs allow what, and who acts.

A job belongs to the process whose JobManager runs it. Jobs of this process are acted on
directly; a job run by another live process (a ``seisproc run`` in a terminal) gets a
control request in the job history, which that process picks up within a fraction of a
second, as ``seisproc pause`` does. An interrupted job (its process died) is adopted by
this process on resume or cancel.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from seisproc.errors import SeisprocError
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import owner_alive

__all__ = ["JobAction", "allowed", "apply_action"]

S = JobState


class JobAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


_FROM: dict[JobAction, frozenset[JobState]] = {
    JobAction.PAUSE: frozenset({S.QUEUED, S.RUNNING}),
    JobAction.RESUME: frozenset({S.PAUSED, S.INTERRUPTED}),
    JobAction.CANCEL: frozenset({S.QUEUED, S.RUNNING, S.PAUSED, S.INTERRUPTED}),
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
