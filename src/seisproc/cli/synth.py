"""``seisproc synth``: make a synthetic survey."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

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
@click.option("--geology", is_flag=True,
              help="A line to image: flat and dipping reflectors and a point diffractor in "
                   "a layered earth of known velocities (no ground roll).")
@click.option("--velocities", "velocities_out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --geology: also write the true RMS velocities to this CSV.")
def synth(out: Path, shots: int, channels: int, samples: int, dt_ms: float,
          sample_format: str, endian: str, seed: int, overwrite: bool, geology: bool,
          velocities_out: Path | None) -> None:
    """Write a synthetic 2-D shot survey to OUT (SEG-Y rev 1).

    Hyperbolic reflections, a direct wave, ground roll and noise, with full headers;
    with --geology, the layered earth that imaging is checked on.
    """
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: already exists; use --overwrite to replace it")
    if velocities_out is not None and not geology:
        raise click.UsageError("--velocities needs --geology (only that line's velocities "
                               "are known)")
    geometry = SurveyGeometry(shots=shots, channels=channels, samples=samples, dt_ms=dt_ms)
    make = _geology_line if geology else synthesize_survey
    with trace_progress("synth", shots * channels) as bar:
        make(out, geometry, sample_format_name=sample_format, endian=endian,
             seed=seed, progress=lambda done, total: bar.update(
                 bar.task_ids[0], completed=done * channels))
    size_mb = out.stat().st_size / 1e6
    click.echo(f"{out}: {shots} shots x {channels} channels x {samples} samples at {dt_ms} ms "
               f"({shots * channels} traces, {size_mb:.1f} MB)")
    if velocities_out is not None:
        _write_true_velocities(velocities_out, geometry)


def _geology_line(out: Path, geometry: SurveyGeometry, **options: Any) -> Path:
    from seisproc.io.synth_geology import synthesize_imaging_line

    return synthesize_imaging_line(out, geometry, **options)


def _write_true_velocities(path: Path, geometry: SurveyGeometry) -> None:
    """The layered earth's RMS velocity at each flat reflector, at the line's middle CDP
    (one location: the earth is the same all along the line)."""
    from seisproc.io.synth_geology import LayeredEarth
    from seisproc.processing.imaging.velocity import VelocityTable, write_velocity_table

    earth = LayeredEarth()
    middle_x = (geometry.shots - 1) * geometry.shot_interval_m / 2  # from the first shot
    middle_cdp = int(np.floor(middle_x / (geometry.group_interval_m / 2))) + 1
    times = np.concatenate([[0.0], earth.zero_offset_times_ms()])
    speeds = np.concatenate([[earth.velocities_m_s[0]], earth.rms_velocities_m_s()])
    write_velocity_table(path, VelocityTable.from_picks(np.full(times.size, middle_cdp), times,
                                                        speeds, source=str(path)))
    click.echo(f"{path}: true RMS velocities at {times.size} times")
