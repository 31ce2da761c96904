"""``seisproc replay`` and ``seisproc show``: re-running a recorded job, and its record.

``replay JOB_ID`` submits the job's recorded flow again, to a new output, and follows it
as ``seisproc run`` does; it refuses in one line when the input is not the file the job
read (``--force`` runs anyway, and the new job's record keeps what differed). ``show
JOB_ID`` prints everything the history holds about a job: its flow, its provenance
(versions, device, the input's identity), its batch and its transitions.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click
import yaml

from seisproc.cli.follow import follow_job
from seisproc.cli.report import job_json
from seisproc.cli.run import address_option, database_option, host_alerts
from seisproc.cli.signals import interrupt_on_termination
from seisproc.engine import open_manager, open_store, run_provenance
from seisproc.jobs.manager import JobNotFound
from seisproc.jobs.model import Job
from seisproc.jobs.plan import check_output_path
from seisproc.production import environment_differences, replay_plan

__all__ = ["replay", "show", "recorded_job"]


def recorded_job(job_id: str, database_url: str | None) -> Job:
    """The job ``job_id`` (or unique prefix) from the history."""
    store = open_store(database_url)
    try:
        job = store.get_job(job_id)
    finally:
        store.close()
    if job is None:
        raise JobNotFound(f"no job {job_id!r} in the history")
    return job


@click.command()
@click.argument("job_id")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the replay writes (default: <output>.replay-<job id>.sgy beside the job's output).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replay even though the input changed; the new job records what differs.",
)
@click.option("--overwrite", is_flag=True, help="Replace the replay's output if it exists.")
@click.option(
    "--on-interrupt",
    type=click.Choice(["cancel", "pause"]),
    default="cancel",
    show_default=True,
    help="What Ctrl-C (or SIGTERM, SIGHUP) does to the job.",
)
@address_option
@database_option
def replay(
    job_id: str,
    output: Path | None,
    force: bool,
    overwrite: bool,
    on_interrupt: str,
    address: str | None,
    database_url: str | None,
) -> None:
    """Run JOB_ID's recorded flow again on its input, to a new output."""
    original = recorded_job(job_id, database_url)
    plan = replay_plan(original, output, force=force)
    check_output_path(plan.flow, overwrite)
    for change in plan.input_changes:
        click.secho(f"warning: replaying anyway (--force): {change}", fg="yellow", err=True)
    provenance = run_provenance(plan.flow, address, plan.extra)
    if original.provenance and (
        changed := environment_differences(original.provenance, provenance)
    ):
        click.echo(
            f"note: the environment differs from job {original.id}'s: {'; '.join(changed)}",
            err=True,
        )
    with interrupt_on_termination(), contextlib.ExitStack() as cleanup:
        manager = open_manager(address=address, database_url=database_url)
        cleanup.callback(manager.close, active="pause" if on_interrupt == "pause" else "cancel")
        host_alerts(manager, cleanup)
        job = manager.submit(
            plan.flow, overwrite=overwrite, name=original.name, provenance=provenance
        )
        click.echo(
            f"job {job.id} submitted: replay of {original.id} to {plan.flow.output}; "
            f"Ctrl-C to {on_interrupt}",
            err=True,
        )
        follow_job(manager, job, on_interrupt)


@click.command()
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@database_option
def show(job_id: str, as_json: bool, database_url: str | None) -> None:
    """Everything recorded about JOB_ID: flow, versions, device, input identity, batch."""
    job = recorded_job(job_id, database_url)
    if as_json:
        click.echo(json.dumps(job_json(job), indent=2, default=str))
        return
    for line in show_lines(job):
        click.echo(line)
    store = open_store(database_url)
    try:
        events = store.job_events(job.id)
    finally:
        store.close()
    click.echo("transitions:")
    for event in events:
        before = event["from_state"].value if event["from_state"] else "-"
        click.echo(
            f"  {event['at']:%Y-%m-%d %H:%M:%S} {before} -> "
            f"{event['to_state'].value}  {event['message']}"
        )


def show_lines(job: Job) -> list[str]:
    """The record of ``job`` as printed by ``seisproc show``."""
    lines = [
        f"job {job.id} ({job.name}) {job.state.value}",
        f"created {job.created_at:%Y-%m-%d %H:%M:%S %Z}"
        + (f", finished {job.finished_at:%Y-%m-%d %H:%M:%S %Z}" if job.finished_at else ""),
        f"input  {job.input}",
        f"output {job.output}",
    ]
    if job.batch:
        lines.append(f"batch  {job.batch}")
    if job.error:
        lines.append(f"error  {job.error.type}: {' '.join(job.error.message.split())}")
    elif job.message:
        lines.append(f"note   {job.message}")
    lines += ["flow:", *_indented(yaml.safe_dump(job.flow, sort_keys=False))]
    if not job.provenance:
        return [*lines, "provenance: none recorded (submitted before seisproc recorded it)"]
    return [*lines, "provenance:", *_indented(_provenance_text(job.provenance))]


def _provenance_text(provenance: dict[str, Any]) -> str:
    return yaml.safe_dump(provenance, sort_keys=False, default_flow_style=False)


def _indented(text: str) -> list[str]:
    return [f"  {line}" for line in text.rstrip().splitlines()]
