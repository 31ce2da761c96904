"""``seisproc demo``: the whole path from nothing to a processed survey, on defaults."""

from __future__ import annotations

from pathlib import Path

import click

from seisproc.cli.follow import follow_job
from seisproc.cli.progress import trace_progress
from seisproc.engine import open_manager
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.paths import seisproc_home
from seisproc.processing.flow import load_flow

__all__ = ["demo", "DEMO_FLOW"]

DEMO_FLOW = """\
name: bandpass-agc
input: shots.sgy
output: shots_bp_agc.sgy
gather_by: ffid
steps:
  - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
  - agc: {window_ms: 500}
"""


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Where to put the demo survey and flow [default: SEISPROC_HOME/demo].")
@click.option("--shots", default=60, show_default=True, type=click.IntRange(1))
@click.option("--channels", default=240, show_default=True, type=click.IntRange(1))
@click.option("--samples", default=1501, show_default=True, type=click.IntRange(2, 32767))
def demo(folder: Path | None, shots: int, channels: int, samples: int) -> None:
    """Make a synthetic survey, run a bandpass + AGC flow over it as a job, print the result."""
    folder = folder or seisproc_home() / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    survey = folder / "shots.sgy"
    geometry = SurveyGeometry(shots=shots, channels=channels, samples=samples, dt_ms=2.0)
    with trace_progress("synthetic survey", shots * channels) as bar:
        synthesize_survey(survey, geometry, progress=lambda done, total: bar.update(
            bar.task_ids[0], completed=done * channels))
    flow_file = folder / "flow.yaml"
    flow_file.write_text(DEMO_FLOW, encoding="utf-8")
    click.echo(f"flow written to {flow_file}")
    click.echo("starting the local Ray workers…")
    manager = open_manager()
    try:
        job = follow_job(manager, manager.submit(load_flow(flow_file), overwrite=True))
    finally:
        manager.close(active="cancel")
    click.echo(f"\nProcessed survey: {job.output}")
    click.echo(f"Job history: seisproc jobs    Run it again: seisproc run {flow_file} "
               "--overwrite")
