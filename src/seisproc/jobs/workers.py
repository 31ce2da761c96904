"""Starting the workers (once, off the scheduler thread, when a job first waits for them)
and giving their running slots to queued jobs.

Starting Ray's workers takes seconds, and the scheduler thread must answer requests
meanwhile, so the start runs on a thread of its own and reports back as a message; the
scheduler then takes the executor, or fails the queued jobs saying why the workers did
not start. An executor that arrives while the process is closing is shut down at once:
no job will run on it.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from seisproc.errors import SeisprocError
from seisproc.jobs.decisions import Event
from seisproc.jobs.model import JobError, JobState
from seisproc.jobs.ports import Executor

if TYPE_CHECKING:
    from seisproc.jobs.scheduler import Scheduler

__all__ = ["WorkersStart"]


class WorkersStart:
    """The scheduler's start of its workers; ``report`` posts the outcome back to it."""

    def __init__(
        self,
        scheduler: Scheduler,
        factory: Callable[[], Executor],
        report: Callable[[Executor | Exception], None],
    ) -> None:
        self._scheduler = scheduler
        self._factory = factory
        self._report = report
        self.starting = False
        """A start is under way: no second one until it has reported."""

    def ensure(self) -> None:
        """Start the workers if a job is queued and none are started or starting."""
        scheduler = self._scheduler
        if scheduler.executor is not None or self.starting:
            return
        if not any(j.state is JobState.QUEUED for j in scheduler.jobs.values()):
            return
        self.starting = True
        threading.Thread(target=self._start, daemon=True, name="seisproc-workers-start").start()

    def _start(self) -> None:
        """Start the workers (Ray: seconds) on this thread; report what came of it."""
        try:
            result: Executor | Exception = self._factory()
        except Exception as exc:
            result = exc
        self._report(result)

    def ready(self, result: Executor | Exception) -> None:
        """On the scheduler thread: take the executor, or fail the queued jobs."""
        self.starting = False
        scheduler = self._scheduler
        if not isinstance(result, Exception):
            if scheduler.closing:
                result.shutdown()
                return
            scheduler.executor = result
            return
        trace = (
            "" if isinstance(result, SeisprocError) else "".join(traceback.format_exception(result))
        )
        error = JobError(type(result).__name__, f"the workers could not start: {result}", trace)
        for job in [j for j in scheduler.jobs.values() if j.state is JobState.QUEUED]:
            scheduler.safely(job.id, Event.WORKERS_FAILED, error=error)

    def start_queued(self) -> None:
        """Give free running slots to queued jobs: priority first, then age. Paused jobs
        hold no slot (the first engine let two paused jobs starve the queue)."""
        scheduler = self._scheduler
        if scheduler.executor is None or scheduler.closing:
            return
        jobs = scheduler.jobs.values()
        running = sum(1 for j in jobs if j.state is JobState.RUNNING)
        queued = sorted(
            (j for j in jobs if j.state is JobState.QUEUED),
            key=lambda j: (-j.priority, j.created_at),
        )
        for job in queued[: max(0, scheduler.max_running - running)]:
            event = Event.CONTINUE if job.id in scheduler.runs else Event.START
            scheduler.safely(job.id, event, "running" if event is Event.CONTINUE else "")
