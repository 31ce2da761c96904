"""``seisproc diff A B``: what differs between two runs, or two SEG-Y files.

For two jobs (ids from the history): their flows step by step and parameter by parameter,
their inputs and outputs, their environments (versions, device, the input's identity),
then their outputs (:mod:`seisproc.production.outputs`). For two files, the outputs
alone. ``--plot diff.png`` draws the gather that differs most, A / B / A - B.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from seisproc.cli.replay import recorded_job
from seisproc.cli.run import database_option
from seisproc.errors import OutputError
from seisproc.jobs.model import Job
from seisproc.production import (
    diff_outputs,
    environment_differences,
    file_differences,
    flow_differences,
    input_differences,
)

__all__ = ["diff"]


@click.command()
@click.argument("a")
@click.argument("b")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw the gather that differs most (A, B, A-B) to this PNG.",
)
@click.option(
    "--gather-by",
    default=None,
    help="Header key of the gathers compared (default: job A's flow's, or ffid).",
)
@click.option(
    "--limit", default=10, show_default=True, help="How many of the most different gathers to list."
)
@database_option
def diff(
    a: str, b: str, plot: Path | None, gather_by: str | None, limit: int, database_url: str | None
) -> None:
    """Compare A and B: two job ids (flows, environments, outputs) or two SEG-Y files."""
    files = [Path(x) for x in (a, b) if Path(x).is_file()]
    if len(files) == 2:
        output_a, output_b, key = files[0], files[1], gather_by or "ffid"
    else:
        job_a, job_b = recorded_job(a, database_url), recorded_job(b, database_url)
        for line in job_lines(job_a, job_b):
            click.echo(line)
        output_a, output_b = Path(job_a.output), Path(job_b.output)
        key = gather_by or str(job_a.flow.get("gather_by") or "ffid")
    for path in (output_a, output_b):
        if not path.is_file():
            raise OutputError(f"{path}: no such output to compare (was the job completed?)")
    began = time.perf_counter()
    result = diff_outputs(output_a, output_b, key)
    for line in result.lines(limit):
        click.echo(line)
    click.echo(f"(outputs compared in {time.perf_counter() - began:.2f} s)", err=True)
    if plot is not None:
        from seisproc.plots.diff import plot_worst_gather

        if plot_worst_gather(result, plot):
            click.echo(f"plot: {plot}")
        else:
            click.echo("plot: not drawn, no gather's samples differ")


def job_lines(a: Job, b: Job) -> list[str]:
    """The flows', files' and environments' differences of jobs ``a`` and ``b``."""
    lines = [
        f"A: job {a.id} ({a.name}) {a.state.value}",
        f"B: job {b.id} ({b.name}) {b.state.value}",
    ]
    flow = flow_differences(a.flow, b.flow)
    lines += (
        ["flow: the same steps and parameters"]
        if not flow
        else ["flow:", *(f"  {line}" for line in flow)]
    )
    lines += [f"files: {line}" for line in file_differences(a.flow, b.flow)]
    if a.provenance and b.provenance:
        environment = environment_differences(a.provenance, b.provenance)
        lines += (
            ["environment: the same"]
            if not environment
            else ["environment:", *(f"  {line}" for line in environment)]
        )
        if a.input == b.input and a.provenance.get("input") and b.provenance.get("input"):
            changed = input_differences(a.provenance["input"], b.provenance["input"])
            lines.append(
                "input: the same file, unchanged" if not changed else f"input: {'; '.join(changed)}"
            )
    else:
        lines.append(
            "environment: not recorded for "
            + " and ".join(j.id for j in (a, b) if not j.provenance)
        )
    return lines
