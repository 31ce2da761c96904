"""``seisproc info`` and ``seisproc processors``: look before you process."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from seisproc.io.index import gather_index
from seisproc.io.segy import open_segy
from seisproc.processing.base import available_processors
from seisproc.processing.describe import describe_processor

__all__ = ["info", "processors"]


@click.command()
@click.argument("segy_file", type=click.Path(path_type=Path))
@click.option("--gather-by", default=None, help="Also index gathers by this header key.")
@click.option("--trace", "trace_no", type=int, default=None,
              help="Also print every header word of this trace (0-based).")
@click.option("--text", is_flag=True, help="Print the textual header.")
def info(segy_file: Path, gather_by: str | None, trace_no: int | None, text: bool) -> None:
    """Describe a SEG-Y file: layout, headers, gathers."""
    console = Console()
    with open_segy(segy_file) as segy:
        lay = segy.layout
        console.print(f"[bold]{segy_file}[/]")
        length_ms = (lay.n_samples - 1) * lay.sample_interval_ms
        console.print(f"  {lay.n_traces:,} traces x {lay.n_samples} samples, "
                      f"{lay.sample_interval_ms:g} ms ({length_ms:g} ms long)")
        console.print(f"  {lay.format.name} (code {lay.format.code}), {lay.endian}-endian, "
                      f"traces from byte {lay.data_offset}")
        if text:
            console.print(segy.text_header(), markup=False, highlight=False)
        if gather_by:
            index = gather_index(segy, gather_by)
            sizes = index.sizes()
            console.print(f"  {len(index):,} gathers by {index.key}: values {index.keys[0]}.."
                          f"{index.keys[-1]}, {sizes.min()}-{sizes.max()} traces "
                          f"(median {int(np.median(sizes))})")
        if trace_no is not None:
            table = Table("field", "value", title=f"trace {trace_no}")
            for name, value in segy.trace_header(trace_no).items():
                if value:
                    table.add_row(name, str(value))
            console.print(table)


@click.command()
def processors() -> None:
    """List the processors a flow can use, with their parameters."""
    console = Console()
    for name, cls in available_processors().items():
        spec = describe_processor(cls)
        also = f" (also {', '.join(spec.aliases)})" if spec.aliases else ""
        console.print(f"[bold]{name}[/]{escape(also)}: {escape(spec.summary)}")
        for param in spec.params:
            default = "" if param.required else f" = {param.default!r}"
            about = f"  ({param.description})" if param.description else ""
            console.print(escape(f"    {param.name}: {param.type_name}{default}{about}"))
