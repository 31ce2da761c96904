"""Following a job in the terminal: a live progress bar until it ends, and Ctrl-C."""

from __future__ import annotations

import click

from seisproc.cli.progress import trace_progress
from seisproc.cli.report import print_job_summary
from seisproc.errors import SeisprocError
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.stages import add_stages

__all__ = ["follow_job", "JobDidNotComplete"]


class JobDidNotComplete(SeisprocError):
    """The followed job ended FAILED or CANCELLED; the message says why."""


def follow_job(manager: JobManager, job: Job, on_interrupt: str = "cancel") -> Job:
    """Show ``job``'s progress until it ends; Ctrl-C cancels or pauses it.

    The process stays the job's owner while it follows, so ``seisproc pause`` and
    ``seisproc resume`` from another terminal reach it. Returns the job when COMPLETED,
    or PAUSED after Ctrl-C with ``on_interrupt="pause"``; raises
    :class:`JobDidNotComplete` (one line for the CLI) for FAILED or CANCELLED.
    """
    stages: dict[str, float] = {}
    try:  # an interrupt while the progress bar starts counts as one during the wait
        final = _follow(manager, job, stages)
    except KeyboardInterrupt:
        final = _stop(manager, job, on_interrupt)
    return _report(final, stages)


def _follow(manager: JobManager, job: Job, stages: dict[str, float]) -> Job:
    """Follow to the end, adding the workers' stage times of each unit into ``stages``."""
    with trace_progress(job.name, total=job.progress.traces_total or 0) as bar:
        task = bar.task_ids[0]

        def show(event: JobEvent) -> None:
            if event.job.id != job.id:
                return
            if event.kind is JobEventKind.UNIT_COMPLETED:
                add_stages(stages, event.detail.get("stages", {}).items())
            if event.job.progress.traces_total:
                bar.update(task, total=event.job.progress.traces_total,
                           completed=event.job.progress.traces_done)

        unsubscribe = manager.subscribe(show)
        try:
            return manager.wait(job.id)  # paused from another terminal: keep following
        finally:
            unsubscribe()


def _stop(manager: JobManager, job: Job, on_interrupt: str) -> Job:
    """Ctrl-C (or SIGTERM, SIGHUP): pause or cancel the job, as asked."""
    if on_interrupt == "pause":
        click.echo("\npausing: letting the units in flight land…", err=True)
        manager.close(active="pause")
        return manager.get(job.id)
    click.echo("\ncancelling: stopping the workers and removing the partial output…",
               err=True)
    manager.cancel(job.id, "cancelled by Ctrl-C")
    return manager.wait(job.id, timeout_s=30)


def _report(job: Job, stages: dict[str, float]) -> Job:
    print_job_summary(job, stages=stages)
    if job.state is JobState.PAUSED:
        click.echo(f"\nJob {job.id} is paused. Resume it with: seisproc resume {job.id}")
    elif job.state is JobState.FAILED:
        raise JobDidNotComplete(
            f"job {job.id} failed: {job.error.message if job.error else job.message}")
    elif job.state is JobState.CANCELLED:
        raise JobDidNotComplete(f"job {job.id} was cancelled ({job.message}); "
                                "its partial output was removed")
    return job
