"""``seisproc run --each``, ``seisproc batch``, and the ``--batch`` of ``jobs`` and ``cancel``.

``run flow.yaml --each 'raw/line_*.sgy'`` checks every input and output first (nothing is
submitted unless all are fine), submits one job per input under one batch id, follows
them to the end and prints the batch summary: the jobs that completed, and each failure
with its one-line reason; it exits 1 when any job did not complete. The process runs the
batch (four jobs at a time), as ``seisproc run`` runs its job: Ctrl-C cancels (or with
``--on-interrupt pause`` pauses) every job of it. ``seisproc batch ID`` prints the same
summary from the history, from any terminal, while the batch runs or after.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import click
from rich.console import Console

from seisproc.cli.progress import trace_progress
from seisproc.cli.report import jobs_table
from seisproc.cli.run import database_option, host_alerts
from seisproc.engine import open_manager, open_store
from seisproc.errors import SeisprocError
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job
from seisproc.jobs.owner import owner_alive
from seisproc.jobs.plan import check_output_path
from seisproc.paths import open_private
from seisproc.processing.flow import Flow
from seisproc.production import (
    BatchSummary,
    expand_inputs,
    flows_for_inputs,
    new_batch_id,
    summarize,
)

__all__ = [
    "batch",
    "run_batch",
    "cancel_batch",
    "batch_jobs",
    "BatchDidNotComplete",
]


class BatchDidNotComplete(SeisprocError):
    """Some job of a batch failed or was cancelled; the summary above says which."""


def run_batch(
    flow_file: Path,
    each: str,
    *,
    overwrite: bool,
    priority: int,
    on_interrupt: str,
    address: str | None,
    database_url: str | None,
    id_file: Path | None = None,
    after: Sequence[str] = (),
) -> None:
    """Submit one job per input of ``each`` and follow the batch to its summary; with
    ``after``, every job of it waits for those jobs (or batches) first."""
    flows = flows_for_inputs(flow_file, expand_inputs(each), date.today())
    for flow in flows:
        check_output_path(flow, overwrite)
    with contextlib.ExitStack() as cleanup:
        manager = open_manager(address=address, database_url=database_url)
        cleanup.callback(manager.close, active="pause" if on_interrupt == "pause" else "cancel")
        host_alerts(manager, cleanup)
        from seisproc.cli.pipeline import resolve_after

        waits = resolve_after(manager.store, after, database_url)
        batch_id, jobs, seconds = _submit_all(manager, flows, overwrite, priority, address,
                                              waits)
        if id_file is not None:
            with os.fdopen(open_private(id_file), "w") as written:
                written.write(batch_id)
        click.echo(
            f"batch {batch_id}: {len(jobs)} jobs submitted in {seconds:.2f} s "
            f"({flows[0].name}); Ctrl-C to {on_interrupt} them all",
            err=True,
        )
        try:
            _follow(manager, jobs)
        except KeyboardInterrupt:
            click.echo(f"\n{on_interrupt}: stopping every job of batch {batch_id}…", err=True)
            manager.close(active="pause" if on_interrupt == "pause" else "cancel")
        summary = summarize(batch_id, [manager.get(job.id) for job in jobs])
    _report(summary)


def _submit_all(
    manager: JobManager, flows: Sequence[Flow], overwrite: bool, priority: int,
    address: str | None, after: Sequence[str] = (),
) -> tuple[str, list[Job], float]:
    """Submit every flow under one new batch id; on a refusal, cancel the ones already
    submitted, so a batch is submitted whole or not at all."""
    batch_id, jobs = new_batch_id(), []
    began = time.perf_counter()
    try:
        for flow in flows:
            jobs.append(
                manager.submit(
                    flow,
                    overwrite=overwrite,
                    priority=priority,
                    batch=batch_id,
                    after=after,
                )
            )
    except SeisprocError as exc:
        for job in jobs:
            with contextlib.suppress(SeisprocError):
                manager.cancel(job.id, f"batch {batch_id} was not submitted whole")
        raise SeisprocError(
            f"{exc} (batch not submitted: the {len(jobs)} jobs submitted before it were cancelled)"
        ) from None
    return batch_id, jobs, time.perf_counter() - began


def _follow(manager: JobManager, jobs: Sequence[Job]) -> None:
    """A progress bar of the jobs ended, until every job of the batch has."""
    with trace_progress(f"batch {jobs[0].batch}", total=len(jobs), unit="jobs") as bar:
        task = bar.task_ids[0]
        for done, job in enumerate(jobs, start=1):
            manager.wait(job.id)
            bar.update(task, completed=done)


def _report(summary: BatchSummary) -> None:
    for line in summary.lines():
        click.echo(line)
    if summary.failed:
        raise BatchDidNotComplete(
            f"batch {summary.batch}: {summary.failed} of {summary.total} jobs did not complete"
        )


def batch_jobs(batch_id: str, database_url: str | None = None) -> list[Job]:
    """The jobs of ``batch_id`` in the history, in input order; refused when none."""
    store = open_store(database_url)
    try:
        jobs = store.query(batch=batch_id, limit=None)
    finally:
        store.close()
    if not jobs:
        raise SeisprocError(
            f"no batch {batch_id!r} in the history (its id is printed by 'seisproc run --each')"
        )
    return sorted(jobs, key=lambda job: job.input)


def cancel_batch(batch_id: str, database_url: str | None) -> None:
    """Cancel every unfinished job of the batch: the live owner's jobs by requests left
    in the history (all at once, then waited for together), the others here."""
    manager = open_manager(database_url=database_url)
    try:
        jobs = [job for job in batch_jobs(batch_id, database_url) if not job.state.is_terminal()]
        message = f"cancelled with batch {batch_id} from {manager.owner}"
        for job in jobs:
            if job.state.is_active() and owner_alive(job, manager.store):
                manager.store.request_control(job.id, "cancel", message)
            else:
                manager.cancel(job.id, message)
        deadline = time.monotonic() + 30
        while jobs and time.monotonic() < deadline:
            jobs = [job for job in jobs if not manager.get(job.id).state.is_terminal()]
            time.sleep(0.1)
    finally:
        manager.close()
    summary = summarize(batch_id, batch_jobs(batch_id, database_url))
    for line in summary.lines():
        click.echo(line)
    if jobs:
        click.echo(
            f"{len(jobs)} jobs have not ended yet (check with: seisproc jobs --batch {batch_id})"
        )


@click.command()
@click.argument("batch_id")
@click.option("--jobs", "show_jobs", is_flag=True, help="List the batch's jobs too.")
@database_option
def batch(batch_id: str, show_jobs: bool, database_url: str | None) -> None:
    """The summary of batch BATCH_ID: its jobs by state, each failure with its reason."""
    jobs = batch_jobs(batch_id, database_url)
    if show_jobs:
        Console().print(jobs_table(jobs))
    summary = summarize(batch_id, jobs)
    for line in summary.lines():
        click.echo(line)
    if not summary.ended:
        click.echo(f"  (still running: follow with 'seisproc jobs --batch {batch_id}')")
