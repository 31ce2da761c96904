"""How jobs are shown in the terminal: a finished job's summary, the jobs table, JSON."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from seisproc.analytics.format import human_clock
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.stages import breakdown

__all__ = ["print_job_summary", "jobs_table", "job_json"]

_STATE_STYLE = {
    JobState.COMPLETED: "green", JobState.FAILED: "red", JobState.CANCELLED: "yellow",
    JobState.RUNNING: "cyan", JobState.PAUSED: "magenta", JobState.INTERRUPTED: "red",
    JobState.QUEUED: "white", JobState.CANCELLING: "yellow", JobState.WAITING: "blue",
}


def print_job_summary(job: Job, console: Console | None = None,
                      stages: Mapping[str, float] | None = None) -> None:
    """Two columns: what ran, how much, how fast, where the output is; with ``stages``
    (the workers' seconds per stage, summed), where the workers' time went."""
    console = console or Console()
    p = job.progress
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    style = _STATE_STYLE.get(job.state, "white")
    table.add_row("job", f"{job.id} ({job.name}) [{style}]{job.state.value}[/]")
    table.add_row("input", job.input)
    table.add_row("output", f"[bold green]{job.output}[/]" if job.state is JobState.COMPLETED
                  else f"{job.output} (not written)")
    table.add_row("units / traces", f"{p.units_done:,}/{p.units_total:,} / "
                  f"{p.traces_done:,}/{p.traces_total:,}")
    seconds = job.duration_s or 0.0
    rate = p.traces_done / seconds if seconds > 0 else 0.0
    table.add_row("time", f"{seconds:.2f} s ({rate:,.0f} traces/s)")
    if stages and breakdown(stages):
        table.add_row("worker time", breakdown(stages))
    if job.nodes:
        table.add_row("nodes", ", ".join(node[:12] for node in job.nodes))
    if job.state is JobState.COMPLETED and Path(job.output).exists():
        table.add_row("output size", f"{Path(job.output).stat().st_size / 1e6:,.1f} MB")
    if job.message and job.state is not JobState.COMPLETED:
        table.add_row("note", job.message)
    console.print(table)


def jobs_table(jobs: list[Job]) -> Table:
    table = Table(box=None, padding=(0, 1))
    table.add_column("id", no_wrap=True, min_width=12)
    table.add_column("name", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("progress", no_wrap=True, justify="right")
    table.add_column("traces/s", no_wrap=True, justify="right")
    table.add_column("duration", no_wrap=True, justify="right")
    table.add_column("output", overflow="fold")
    for job in jobs:
        style = _STATE_STYLE.get(job.state, "white")
        rate = f"{job.progress.traces_per_s:,.0f}" if job.progress.traces_per_s else "-"
        table.add_row(job.id, job.name, f"[{style}]{job.state.value}[/]",
                      f"{job.progress.fraction:6.1%}", rate, human_clock(job.duration_s),
                      job.output)
    return table


def job_json(job: Job) -> dict[str, Any]:
    """The job's dict with ``progress`` as a fraction (details in ``progress_detail``)."""
    data = job.to_dict()
    data["progress_detail"] = data["progress"]
    data["progress"] = job.progress.fraction
    return data
