"""``seisproc run``: run a flow file with a progress bar."""

from __future__ import annotations

from pathlib import Path

import click

from seisproc.cli.progress import trace_progress
from seisproc.cli.report import print_summary
from seisproc.jobs.local import run_flow
from seisproc.processing.flow import load_flow

__all__ = ["run"]


@click.command()
@click.argument("flow_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace the output if it exists.")
def run(flow_file: Path, overwrite: bool) -> None:
    """Run the processing flow in FLOW_FILE (YAML or TOML)."""
    flow = load_flow(flow_file)
    summary = None
    with trace_progress(flow.name, total=0) as bar:
        task = bar.task_ids[0]

        def advance(result, plan):  # type: ignore[no-untyped-def]
            bar.update(task, total=plan.n_traces, advance=result.traces)

        summary = run_flow(flow, overwrite=overwrite, progress=advance)
    print_summary(summary)
