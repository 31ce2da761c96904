"""The scheduler's side of waiting jobs: asking, now and then, whether they may start.

What a waiting job waits for may be run by any process, so its state is read from the
history: on the history thread (the scheduler never waits for the database), at most
every :data:`JUDGE_S`, and the verdicts (:func:`~seisproc.jobs.dependencies.judge`) come
back to the scheduler as a :class:`Judged` message. A job whose jobs ended well becomes
QUEUED and waits for a running slot like any other; one that cannot start says why in
its message, which the dashboard and ``seisproc jobs`` show.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seisproc.jobs.decisions import Event
from seisproc.jobs.dependencies import Readiness, judge
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import Job, JobState

if TYPE_CHECKING:
    from seisproc.jobs.scheduler import Scheduler

__all__ = ["JUDGE_S", "Judged", "WaitingJudge"]

JUDGE_S = 1.0
"""How often waiting jobs ask whether what they wait for has ended: one history read of
those jobs, so a dependent starts within about a second of its last dependency."""


@dataclass(frozen=True)
class Judged:
    """Whether each waiting job may start, judged on the history thread."""

    verdicts: dict[str, Readiness]


class WaitingJudge:
    """Asks for the waiting jobs' verdicts and applies them; scheduler thread only."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._asked = False
        self._next = 0.0

    def ask(self) -> None:
        """Send the waiting jobs to be judged, if it is time and none is being judged."""
        scheduler = self._scheduler
        now = time.monotonic()
        if self._asked or now < self._next or scheduler.closing:
            return
        waiting = {j.id: j.waits_for for j in scheduler.jobs.values()
                   if j.state is JobState.WAITING}
        if not waiting:
            return
        self._asked, self._next = True, now + JUDGE_S
        known = dict(scheduler.jobs)  # this process's records of its own jobs are freshest
        store = scheduler.writer.store

        def judge_all() -> None:
            verdicts: dict[str, Readiness] = {}
            try:
                for job_id, waits_for in waiting.items():
                    found: dict[str, Job | None] = {
                        i: known[i] if i in known else store.get_job(i) for i in waits_for}
                    verdicts[job_id] = judge(waits_for, {i: j for i, j in found.items()
                                                         if j is not None})
            finally:
                scheduler.post(Judged(verdicts))

        scheduler.writer.call(judge_all, "the judgement of waiting jobs")

    def apply(self, judged: Judged) -> None:
        """Queue the jobs that may start; note on the others why they wait."""
        self._asked = False
        scheduler = self._scheduler
        for job_id, readiness in judged.verdicts.items():
            job = scheduler.jobs.get(job_id)
            if job is None or job.state is not JobState.WAITING:
                continue
            if readiness.start:
                scheduler.safely(job_id, Event.DEPENDENCIES_MET, "queued: " + readiness.reason)
            elif readiness.reason != job.message:
                job = dataclasses.replace(job, message=readiness.reason)
                scheduler.jobs[job_id] = job
                scheduler.writer.save(job, JobEvent(JobEventKind.PROGRESS, job))
