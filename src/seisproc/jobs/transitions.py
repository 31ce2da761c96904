"""The one place that decides which state changes are legal, and stamps their times.

``QUEUED → RUNNING → PAUSED → QUEUED`` (a resumed job waits for a running slot again);
``QUEUED|RUNNING|PAUSED|INTERRUPTED → CANCELLING → CANCELLED``; ``RUNNING → COMPLETED``;
``QUEUED|RUNNING|PAUSED → FAILED`` (a unit's error, a lost store or workers can arrive
while a job is paused or waiting); ``QUEUED|RUNNING|PAUSED → INTERRUPTED → QUEUED`` (found
after its process died). A job submitted ``--after`` others is ``WAITING → QUEUED`` once
they ended well. A FAILED job may be given a second chance, ``FAILED → QUEUED`` (a resume,
from the start), or given up on, ``FAILED → CANCELLED`` (a cancel: the jobs waiting for it
go on without it). Anything else raises :class:`IllegalTransition`. Which event makes
which move is decided in :mod:`seisproc.jobs.decisions`.
"""

from __future__ import annotations

import dataclasses

from seisproc.errors import SeisprocError
from seisproc.jobs.model import Job, JobState, utcnow

__all__ = ["IllegalTransition", "transition", "ALLOWED"]

S = JobState
ALLOWED: dict[JobState, frozenset[JobState]] = {
    S.QUEUED: frozenset({S.RUNNING, S.PAUSED, S.CANCELLING, S.FAILED, S.INTERRUPTED}),
    S.WAITING: frozenset({S.QUEUED, S.CANCELLING, S.FAILED}),
    S.RUNNING: frozenset({S.PAUSED, S.CANCELLING, S.COMPLETED, S.FAILED, S.INTERRUPTED}),
    S.PAUSED: frozenset({S.QUEUED, S.CANCELLING, S.FAILED, S.INTERRUPTED}),
    S.CANCELLING: frozenset({S.CANCELLED}),
    S.INTERRUPTED: frozenset({S.QUEUED, S.CANCELLING}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset({S.QUEUED, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}


class IllegalTransition(SeisprocError):
    """A state change the life cycle does not allow (e.g. resuming a completed job)."""


def transition(job: Job, to: JobState, *, message: str | None = None, **changes: object) -> Job:
    """Return ``job`` moved to state ``to``, with start/finish times stamped.

    >>> from seisproc.jobs.model import Job
    >>> transition(Job(id="a1", name="demo"), JobState.RUNNING).state
    <JobState.RUNNING: 'RUNNING'>
    """
    if to not in ALLOWED[job.state]:
        raise IllegalTransition(
            f"job {job.id} ({job.name}) is {job.state.value}: it cannot become {to.value}"
            + (" (it has finished)" if job.state.is_terminal() else "")
        )
    now = utcnow()
    stamps: dict[str, object] = {"state": to, "updated_at": now}
    if to is S.RUNNING and job.started_at is None:
        stamps["started_at"] = now
    if to.is_terminal():
        stamps["finished_at"] = now
    elif job.state.is_terminal():  # a failed job run again: a fresh start, a fresh record
        stamps.update(started_at=None, finished_at=None, error=None)
    if message is not None:
        stamps["message"] = message
    return dataclasses.replace(job, **{**changes, **stamps})  # type: ignore[arg-type]
