"""``seisproc panels``: try several values of one parameter on a few gathers, side by side.

    seisproc panels flow.yaml --vary agc.window_ms=250,500,1000 --gathers 10,50,90

Each value runs the flow on the chosen gathers on the cluster (nothing is written but
the picture); the picture has one column per value and one row per gather, drawn with
one shared clip so that louder is louder. The terminal gets each panel's RMS amplitude.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from seisproc.cli.run import address_option
from seisproc.engine import parameter_panels
from seisproc.errors import OutputError, SeisprocError
from seisproc.processing.flow import load_flow

__all__ = ["panels"]


@click.command()
@click.argument("flow_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--vary", required=True, metavar="STEP.FIELD=V1,V2,...",
              help="The parameter and its values, e.g. agc.window_ms=250,500,1000; name a "
                   "step by processor (agc), rank (agc#2) or number (3).")
@click.option("--gathers", required=True, metavar="K1,K2,...",
              help="The gathers to test, by their value of the flow's gather_by header "
                   "(e.g. FFIDs 10,50,90).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("panels.png"), show_default=True, help="The picture (PNG).")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@address_option
def panels(flow_file: Path, vary: str, gathers: str, out: Path, overwrite: bool,
           address: str | None) -> None:
    """Run FLOW_FILE once per value of one parameter on a few gathers and draw them
    side by side (a column per value, a row per gather, one shared clip)."""
    from seisproc.plots.panels import draw_panels

    if out.suffix.lower() != ".png":
        raise OutputError(f"{out}: the picture is a PNG; name it ….png")
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: already exists; use --overwrite to replace it")
    if not out.parent.is_dir():
        raise OutputError(f"{out}: no such folder {out.parent}")
    flow = load_flow(flow_file)
    key_values = _key_values(gathers)
    err = Console(stderr=True)

    def done(n: int, total: int) -> None:
        err.print(f"  {n} of {total} values done", highlight=False)

    gathers_word = "gather" if len(key_values) == 1 else "gathers"
    err.print(f"panels: {vary} on {len(key_values)} {gathers_word} of {flow.input.name}",
              highlight=False)
    test = parameter_panels(flow, vary, key_values, address=address, on_done=done)
    draw_panels(test.columns, test.labels(), flow.gather_by, out, flow.name)
    _print_rms(test.labels(), test.key_values, test.rms_table(), flow.gather_by)
    click.echo(f"wrote {out}")


def _key_values(text: str) -> list[int]:
    """``10,50,90`` as gather key values; a word that is not a whole number is named."""
    values = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            values.append(int(item))
        except ValueError:
            raise SeisprocError(f"--gathers: {item!r} is not a whole number; give the "
                                "gathers' header values, e.g. --gathers 10,50,90") from None
    if len(set(values)) < len(values):
        raise SeisprocError("--gathers: a gather is given twice")
    return values


def _print_rms(labels: list[str], key_values: list[int], rms: list[list[float]],
               key: str) -> None:
    table = Table(title="RMS amplitude of each panel", title_justify="left")
    table.add_column("value")
    for value in key_values:
        table.add_column(f"{key} {value}", justify="right")
    for label, row in zip(labels, rms, strict=True):
        table.add_row(label, *(f"{x:.4g}" for x in row))
    Console().print(table)
