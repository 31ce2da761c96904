"""``seisproc synth``: make a synthetic survey."""

from __future__ import annotations

from pathlib import Path

import click

from seisproc.cli.progress import trace_progress
from seisproc.errors import OutputError
from seisproc.io.synth import SurveyGeometry, synthesize_survey

__all__ = ["synth"]


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--shots", default=20, show_default=True, type=click.IntRange(1))
@click.option("--channels", default=120, show_default=True, type=click.IntRange(1))
@click.option("--samples", default=1001, show_default=True, type=click.IntRange(2, 32767))
@click.option("--dt-ms", default=4.0, show_default=True, type=click.FloatRange(0.001, 65.0))
@click.option("--format", "sample_format", type=click.Choice(["ieee", "ibm"]), default="ieee",
              show_default=True, help="Sample format of the file.")
@click.option("--endian", type=click.Choice(["big", "little"]), default="big", show_default=True)
@click.option("--seed", default=0, show_default=True, help="Random seed of the noise.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
def synth(out: Path, shots: int, channels: int, samples: int, dt_ms: float,
          sample_format: str, endian: str, seed: int, overwrite: bool) -> None:
    """Write a synthetic 2-D shot survey to OUT (SEG-Y rev 1).

    Hyperbolic reflections, a direct wave, ground roll and noise, with full headers.
    """
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: already exists; use --overwrite to replace it")
    geometry = SurveyGeometry(shots=shots, channels=channels, samples=samples, dt_ms=dt_ms)
    with trace_progress("synth", shots * channels) as bar:
        synthesize_survey(out, geometry, sample_format_name=sample_format, endian=endian,
                          seed=seed, progress=lambda done, total: bar.update(
                              bar.task_ids[0], completed=done * channels))
    size_mb = out.stat().st_size / 1e6
    click.echo(f"{out}: {shots} shots x {channels} channels x {samples} samples at {dt_ms} ms "
               f"({shots * channels} traces, {size_mb:.1f} MB)")
