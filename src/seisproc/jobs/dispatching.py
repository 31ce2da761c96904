"""Handing units to the executor and folding what comes back: the scheduler's I/O with
its workers, the only blocking calls it makes besides the checkpoint's fsync.

A unit the executor refuses (its pool shut down, its Ray gone) goes back to its job
instead of being lost, and the job fails saying why; an executor that raises while
waiting fails every job with units on it. The first engine lost such units: ``in_flight``
never dropped and the job never finished.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from seisproc.jobs.decisions import Event
from seisproc.jobs.folding import fold_completions
from seisproc.jobs.model import JobError, JobState
from seisproc.jobs.ports import Executor

if TYPE_CHECKING:
    from seisproc.jobs.scheduler import Scheduler

__all__ = ["dispatch_units", "collect_units", "WAIT_S"]

WAIT_S = 0.02
"""Longest wait for a completion before the scheduler reads its messages again: a request
(cancel, pause) waits at most this for its turn; a ``ray.wait`` that finds nothing costs
~0.1 ms, so fifty a second are cheap."""


def dispatch_units(scheduler: Scheduler) -> None:
    """Fill the executor's capacity, one unit per running job per round (a small job is
    never starved behind a big one). A unit the executor refuses goes back."""
    executor = scheduler.executor
    if executor is None:
        return
    room = executor.capacity() - executor.in_flight()
    while room > 0:
        ready = [jid for jid in scheduler.rotation if _dispatchable(scheduler, jid)]
        if not ready:
            return
        for job_id in ready[:room]:
            run = scheduler.runs[job_id]
            unit = run.take()
            scheduler.rotation.remove(job_id)
            scheduler.rotation.append(job_id)
            try:
                executor.submit(run.spec, unit)
            except Exception as exc:
                run.untake(unit)
                scheduler.safely(job_id, Event.WORKERS_FAILED, error=JobError(
                    type(exc).__name__, f"the workers took no more units: {exc}"))
                continue
            room -= 1


def _dispatchable(scheduler: Scheduler, job_id: str) -> bool:
    run = scheduler.runs.get(job_id)
    return (run is not None and run.pending
            and scheduler.jobs[job_id].state is JobState.RUNNING)


def collect_units(scheduler: Scheduler, executor: Executor) -> None:
    """Fold the completions that came back, waiting up to ``WAIT_S`` for the first."""
    try:
        completions = executor.wait(WAIT_S)
    except Exception as exc:  # the executor itself is gone: nothing will come back
        _executor_lost(scheduler, exc)
        return
    fold_completions(scheduler, completions)


def _executor_lost(scheduler: Scheduler, exc: Exception) -> None:
    error = JobError(type(exc).__name__, f"the workers stopped answering: {exc}")
    for job_id, run in list(scheduler.runs.items()):
        if run.in_flight:
            run.in_flight = 0
            scheduler.safely(job_id, Event.WORKERS_FAILED, error=error)
    executor, scheduler.executor = scheduler.executor, None
    if executor is not None:
        with contextlib.suppress(Exception):  # it is gone already
            executor.shutdown()
