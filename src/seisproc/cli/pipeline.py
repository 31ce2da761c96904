"""Jobs that wait for jobs, from the command line: ``--after``, pipelines, ``resume --batch``.

``seisproc run b.yaml --after JOB`` (or a batch id) submits a job that waits, WAITING and
holding no slot, until what it waits for ended well; ``seisproc run line.yaml`` on a
pipeline file (:mod:`seisproc.production.pipeline`) submits every flow at once, each
waiting for the flow whose output it reads, under one batch id; ``seisproc resume
--batch ID`` takes up a batch or pipeline whose process died: its interrupted jobs go on
from their checkpoints, its waiting jobs wait again, finished jobs are left as they are.

The command follows the jobs until every one has ended. A job held by a failure (its
message says which job failed and how to go on) keeps the command waiting: resuming or
cancelling the failed job from another terminal lets it go on; Ctrl-C cancels (or, with
``--on-interrupt pause``, leaves for later) what has not ended.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

import click

from seisproc.cli.batch import batch_jobs
from seisproc.cli.run import host_alerts
from seisproc.engine import open_manager
from seisproc.errors import SeisprocError
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import owner_alive
from seisproc.jobs.plan import check_output_path
from seisproc.jobs.ports import JobStore
from seisproc.paths import open_private
from seisproc.production import BatchSummary, new_batch_id, summarize
from seisproc.production.pipeline import load_pipeline

__all__ = ["resolve_after", "run_pipeline", "resume_batch", "follow_jobs"]

S = JobState
POLL_S = 0.5
TAKEN_UP = (S.INTERRUPTED, S.PAUSED, S.WAITING)
"""What ``resume --batch`` takes up; completed, failed and cancelled jobs stay as they are."""


def resolve_after(store: JobStore, given: Sequence[str],
                  database_url: str | None = None) -> list[str]:
    """The job ids that ``--after`` values name: a job id (or unique prefix), or a batch
    id standing for all of its jobs; one that names neither is refused in one line."""
    ids: list[str] = []
    for value in given:
        job = store.get_job(value)
        if job is not None:
            ids.append(job.id)
            continue
        try:
            batch = batch_jobs(value, database_url)
        except SeisprocError:
            raise SeisprocError(f"--after {value}: no job or batch {value!r} in the history "
                                "(their ids are printed by 'seisproc run' and 'seisproc jobs')"
                                ) from None
        ids.extend(job.id for job in batch)
    return list(dict.fromkeys(ids))


def run_pipeline(path: Path, *, overwrite: bool, priority: int, on_interrupt: str,
                 after: Sequence[str], address: str | None, database_url: str | None,
                 id_file: Path | None = None) -> None:
    """Submit every flow of the pipeline file at ``path``, each after the flows it reads
    from, under one batch id, and follow them to the end."""
    pipeline = load_pipeline(path)
    for step in pipeline.steps:
        check_output_path(step.flow, overwrite)
    with contextlib.ExitStack() as cleanup:
        manager = open_manager(address=address, database_url=database_url)
        cleanup.callback(manager.close, active="pause" if on_interrupt == "pause" else "cancel")
        host_alerts(manager, cleanup)
        outside = resolve_after(manager.store, after, database_url)
        batch, jobs = new_batch_id(), list[Job]()
        try:
            for step in pipeline.steps:
                waits = [jobs[i].id for i in step.after] or outside
                jobs.append(manager.submit(step.flow, overwrite=overwrite, priority=priority,
                                           batch=batch, after=waits))
        except SeisprocError as exc:
            for job in jobs:
                with contextlib.suppress(SeisprocError):
                    manager.cancel(job.id, f"pipeline {pipeline.name} was not submitted whole")
            raise SeisprocError(f"{exc} (pipeline not submitted: the {len(jobs)} jobs "
                                "submitted before it were cancelled)") from None
        if id_file is not None:
            with os.fdopen(open_private(id_file), "w") as written:
                written.write(batch)
        click.echo(f"pipeline {pipeline.name}: batch {batch}, {len(jobs)} jobs "
                   f"({', '.join(step.flow.name for step in pipeline.steps)}); Ctrl-C to "
                   f"{on_interrupt} them all", err=True)
        follow_jobs(manager, jobs)
        summary = summarize(batch, [manager.get(job.id) for job in jobs])
    _report(summary, f"pipeline {pipeline.name} (batch {batch})")


def resume_batch(batch: str, *, on_interrupt: str, address: str | None,
                 database_url: str | None) -> None:
    """Take up the unfinished jobs of ``batch`` whose process is gone and follow every
    unfinished job of it to the end."""
    with contextlib.ExitStack() as cleanup:
        manager = open_manager(address=address, database_url=database_url)
        cleanup.callback(manager.close, active="pause" if on_interrupt == "pause" else "cancel")
        host_alerts(manager, cleanup)
        jobs = batch_jobs(batch, database_url)
        taken = []
        for job in jobs:
            if job.state not in TAKEN_UP:
                continue
            if job.owner and job.owner != manager.owner and owner_alive(job, manager.store):
                click.echo(f"job {job.id} ({job.name}) is {job.state.value} in process "
                           f"{job.owner}: left to it", err=True)
                continue
            taken.append(manager.resume(job.id))
        if not taken:
            raise SeisprocError(f"batch {batch}: nothing to resume (its jobs are "
                                f"{_states(jobs)})")
        click.echo(f"batch {batch}: {len(taken)} jobs taken up; Ctrl-C to {on_interrupt} "
                   "them all", err=True)
        follow_jobs(manager, taken)
        summary = summarize(batch, [manager.get(job.id) for job in jobs])
    _report(summary, f"batch {batch}")


def _report(summary: BatchSummary, what: str) -> None:
    """The summary's lines; a one-line error (exit 1) when a job did not complete."""
    for line in summary.lines():
        click.echo(line)
    if summary.failed:
        raise SeisprocError(f"{what}: {summary.failed} of {summary.total} jobs did not "
                            "complete")


def follow_jobs(manager: JobManager, jobs: Sequence[Job]) -> None:
    """Print each job's changes of state (and a waiting job's reason) as one line, until
    every job has ended."""
    shown: dict[str, tuple[JobState, str]] = {}
    width = max(len(job.name) for job in jobs)
    while True:
        current = [manager.get(job.id) for job in jobs]
        for job in current:
            said = (job.state, job.message if job.state is S.WAITING else "")
            if shown.get(job.id) != said:
                shown[job.id] = said
                click.echo(f"{job.id}  {job.name:<{width}}  {_line(job)}", err=True)
        if all(job.state.is_terminal() for job in current):
            return
        time.sleep(POLL_S)


def _line(job: Job) -> str:
    if job.state is S.WAITING:
        return f"WAITING: {job.message}"
    if job.state is S.FAILED and job.error is not None:
        return f"FAILED: {job.error.message}"
    return job.state.value


def _states(jobs: Sequence[Job]) -> str:
    return ", ".join(sorted({job.state.value for job in jobs}))
