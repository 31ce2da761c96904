"""``seisproc jobs``, ``resume``, ``pause`` and ``cancel``: managing jobs from any terminal.

A job belongs to the process whose JobManager runs it. From another terminal, pause and
cancel are requests recorded in the job history, which that process picks up within a
fraction of a second; a job whose process died is INTERRUPTED and can be resumed or
cancelled directly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import click
from rich.console import Console

from seisproc.cli.follow import follow_job
from seisproc.cli.report import job_json, jobs_table
from seisproc.cli.run import address_option, database_option
from seisproc.cli.signals import interrupt_on_termination
from seisproc.engine import open_manager
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import owner_alive

__all__ = ["jobs", "resume", "pause", "cancel"]


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Every job, not just active and recent.")
@click.option("--limit", default=20, show_default=True, help="How many recent jobs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of jobs.")
@click.option("--batch", "batch_id", default=None, metavar="ID",
              help="Only the jobs of this batch (seisproc run --each), then its summary.")
@database_option
def jobs(show_all: bool, limit: int, as_json: bool, batch_id: str | None,
         database_url: str | None) -> None:
    """Active jobs and the most recent others, with state, progress and duration."""
    if batch_id is not None:
        _batch_jobs(batch_id, as_json, database_url)
        return
    manager = open_manager(database_url=database_url)
    active = manager.list([s for s in JobState if s.is_active() or s is JobState.INTERRUPTED])
    recent = manager.get_job_history(1_000_000 if show_all else limit)
    seen = {j.id for j in active}
    listed = active + [j for j in recent if j.id not in seen]
    if as_json:
        click.echo(json.dumps([job_json(j) for j in listed], indent=2))
    elif listed:
        Console().print(jobs_table(listed))
    else:
        click.echo("no jobs yet: try 'seisproc demo'")


@click.command()
@click.argument("job_id", required=False)
@click.option("--batch", "batch_id", default=None, metavar="ID",
              help="Take up every interrupted, paused or waiting job of a batch or pipeline "
                   "whose process is gone, and follow them all.")
@click.option("--on-interrupt", type=click.Choice(["cancel", "pause"]), default="pause",
              show_default=True,
              help="What Ctrl-C (or SIGTERM, SIGHUP) does to the resumed job.")
@click.option("--restart", is_flag=True,
              help="Discard the checkpoint and the partial output and start over (when the "
                   "input changed since the job started).")
@address_option
@database_option
def resume(job_id: str | None, batch_id: str | None, on_interrupt: str, restart: bool,
           address: str | None, database_url: str | None) -> None:
    """Resume a paused or interrupted job from its checkpoint (a failed one from the
    start; a waiting one waits again), and follow it."""
    if (job_id is None) == (batch_id is None):
        raise click.UsageError("give a JOB_ID or --batch ID (one of them)")
    if batch_id is not None:
        from seisproc.cli.pipeline import resume_batch

        with interrupt_on_termination():
            resume_batch(batch_id, on_interrupt=on_interrupt, address=address,
                         database_url=database_url)
        return
    assert job_id is not None
    with interrupt_on_termination():
        manager = open_manager(address=address, database_url=database_url)
        try:
            job = manager.get(job_id)
            if job.state is JobState.PAUSED and owner_alive(job, manager.store) \
                    and job.owner != manager.owner and not restart:
                _request(manager, job, "resume", lambda j: j.state is not JobState.PAUSED)
                return
            job = manager.resume(job.id, restart=restart)
            click.echo(f"job {job.id} {'restarted' if restart else 'resumed'} ({job.name})",
                       err=True)
            follow_job(manager, job, on_interrupt)
        finally:
            manager.close(active="pause" if on_interrupt == "pause" else "cancel")


@click.command()
@click.argument("job_id")
@database_option
def pause(job_id: str, database_url: str | None) -> None:
    """Pause a running or queued job (it can be resumed later)."""
    manager = open_manager(database_url=database_url)
    job = manager.get(job_id)
    if not job.state.is_active():
        click.echo(f"job {job.id} is {job.state.value}: nothing to pause")
        return
    _request(manager, job, "pause", lambda j: j.state is not JobState.RUNNING
             and j.state is not JobState.QUEUED, f"paused by user from {manager.owner}")


def _batch_jobs(batch_id: str, as_json: bool, database_url: str | None) -> None:
    """``jobs --batch``: the batch's jobs, then its summary (:mod:`seisproc.cli.batch`)."""
    from seisproc.cli.batch import batch_jobs
    from seisproc.production import summarize

    listed = batch_jobs(batch_id, database_url)
    if as_json:
        click.echo(json.dumps([job_json(j) for j in listed], indent=2))
        return
    Console().print(jobs_table(listed))
    for line in summarize(batch_id, listed).lines():
        click.echo(line)


@click.command()
@click.argument("job_id", required=False)
@click.option("--batch", "batch_id", default=None, metavar="ID",
              help="Cancel every unfinished job of this batch instead.")
@database_option
def cancel(job_id: str | None, batch_id: str | None, database_url: str | None) -> None:
    """Cancel a job (or a batch's jobs): workers stop, partial outputs are removed."""
    if (job_id is None) == (batch_id is None):
        raise click.UsageError("give a JOB_ID or --batch ID (one of them)")
    if batch_id is not None:
        from seisproc.cli.batch import cancel_batch

        cancel_batch(batch_id, database_url)
        return
    assert job_id is not None
    _cancel(job_id, database_url)


def _cancel(job_id: str, database_url: str | None) -> None:
    manager = open_manager(database_url=database_url)
    job = manager.get(job_id)
    if job.state in (JobState.COMPLETED, JobState.CANCELLED):
        click.echo(f"job {job.id} is already {job.state.value}")
        return
    if job.state.is_active() and owner_alive(job, manager.store):
        _request(manager, job, "cancel", lambda j: j.state.is_terminal(),
                 f"cancelled by user from {manager.owner}")
        return
    try:
        manager.cancel(job.id)
        final = manager.wait(job.id, timeout_s=30)
        click.echo(f"job {final.id} {final.state.value}")
    finally:
        manager.close()


def _request(manager: JobManager, job: Job, action: str, done: Callable[[Job], bool],
             message: str = "") -> None:
    """Ask the owning process to act, then wait (a few seconds) to report the outcome.

    ``message`` is what the owner writes on the job; it names this terminal's
    ``host:pid``, so the job's history says where a pause or cancel came from.
    """
    manager.store.request_control(job.id, action, message)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        now = manager.store.get_job(job.id)
        if now is not None and done(now):
            click.echo(f"job {now.id} {now.state.value}")
            return
        time.sleep(0.1)
    click.echo(f"asked {job.owner} to {action} job {job.id}; it has not answered yet "
               "(check with: seisproc jobs)")
