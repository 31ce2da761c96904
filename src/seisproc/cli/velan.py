"""``seisproc velan``: semblance panels at chosen CDPs, or picked velocities.

    seisproc velan line_12.sgy --cdps 200:1800:100 --vmin 1400 --vmax 4000 --auto

Each location's super-gather (the CDP and its neighbours, ``--super`` CDPs in all) is
analysed by a task on the cluster. With ``--auto`` a monotone velocity function is picked
at each location and the picks are written as the velocity table CSV (``--out``);
without it the panels are written beside that name as ``.npz`` (``line_12_vel.npz``) for
the desktop app's velocity panel, where the picks are made by hand.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from seisproc.cli.run import address_option
from seisproc.errors import OutputError
from seisproc.jobs.velan import VelanRequest, VelanResult, parse_cdps, save_velocity_table

__all__ = ["velan"]


@click.command()
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--cdps",
    required=True,
    metavar="FIRST:LAST:STEP",
    help="The locations: e.g. 200:1800:100, or a list 200,450,700.",
)
@click.option("--vmin", required=True, type=float, help="Lowest trial RMS velocity, m/s.")
@click.option("--vmax", required=True, type=float, help="Highest trial RMS velocity, m/s.")
@click.option("--vstep", default=20.0, show_default=True, type=float, help="Velocity step, m/s.")
@click.option(
    "--window-ms", default=40.0, show_default=True, type=float, help="Semblance window, ms."
)
@click.option(
    "--super",
    "super_cdps",
    default=5,
    show_default=True,
    type=int,
    help="CDPs in a super-gather: the location and its neighbours (odd).",
)
@click.option(
    "--stretch-mute",
    default=50.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Leave out samples NMO would stretch more than this, %.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Velocity table CSV [default: INPUT's name with _vel.csv]; without "
    "--auto the panels go beside it as .npz.",
)
@click.option("--auto", is_flag=True, help="Pick velocities and write the CSV.")
@click.option("--overwrite", is_flag=True, help="Replace the output if it exists.")
@address_option
def velan(
    input_file: Path,
    cdps: str,
    vmin: float,
    vmax: float,
    vstep: float,
    window_ms: float,
    super_cdps: int,
    stretch_mute: float,
    out: Path | None,
    auto: bool,
    overwrite: bool,
    address: str | None,
) -> None:
    """Semblance velocity analysis of INPUT at the CDPs --cdps, on the cluster."""
    from seisproc.engine import velocity_analysis

    table = out or input_file.with_name(f"{input_file.stem}_vel.csv")
    target = table if auto else table.with_suffix(".npz")
    if target.exists() and not overwrite:
        raise OutputError(f"{target}: already exists; use --overwrite to replace it")
    locations = parse_cdps(cdps)
    # absolute: the cluster's workers do not run in this shell's folder
    request = VelanRequest(input_file.expanduser().resolve(), vmin, vmax, vstep, window_ms,
                           super_cdps, stretch_mute, auto)
    err = Console(stderr=True)
    err.print(
        f"velan: {len(locations)} locations of {input_file.name}, "
        f"{request.velocities_m_s.size} velocities from {vmin:g} to {vmax:g} m/s",
        highlight=False,
    )

    def done(n: int, total: int) -> None:
        err.print(f"  {n} of {total} locations done", highlight=False)

    result = velocity_analysis(request, locations, address=address, on_done=done)
    _print_summary(result)
    if auto:
        picks = result.velocity_table(source=str(target))
        save_velocity_table(target, picks, overwrite=overwrite)
        click.echo(f"wrote {target}: {picks.cdp.size} picks at {picks.locations.size} CDPs")
    else:
        result.save(target, overwrite=overwrite)
        click.echo(
            f"wrote {target}: semblance of {len(result.locations)} locations, "
            f"{result.times_ms.size} times x {result.velocities_m_s.size} velocities; "
            "pick them in seisproc gui (File > Velocity Analysis…)"
        )


def _print_summary(result: VelanResult) -> None:
    auto = result.request.auto
    table = Table(title="velocity analysis", title_justify="left")
    for name in ("CDP", "traces", "peak semblance", "at ms", "m/s", *(("picks",) if auto else ())):
        table.add_column(name, justify="right")
    for loc in result.locations:
        row, column = np.unravel_index(int(np.argmax(loc.semblance)), loc.semblance.shape)
        picks = (
            (
                " ".join(
                    f"{t:g}:{v:.0f}"
                    for t, v in zip(loc.pick_times_ms, loc.pick_velocities_m_s, strict=True)
                )
                or "none"
            ),
        )
        table.add_row(
            str(loc.cdp),
            str(loc.traces),
            f"{loc.semblance[row, column]:.2f}",
            f"{result.times_ms[row]:g}",
            f"{result.velocities_m_s[column]:.0f}",
            *(picks if auto else ()),
        )
    Console().print(table)
