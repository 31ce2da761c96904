"""How a finished run is shown in the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from seisproc.jobs.local import RunSummary

__all__ = ["print_summary"]


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    """A two-column table: what ran, how much, how fast, where the output is."""
    console = console or Console()
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("flow", summary.flow_name)
    table.add_row("input", str(summary.input))
    table.add_row("output", f"[bold green]{summary.output}[/]")
    table.add_row("gathers / traces", f"{summary.n_gathers:,} / {summary.n_traces:,}")
    table.add_row("time", f"{summary.seconds:.2f} s ({summary.traces_per_s:,.0f} traces/s)")
    table.add_row("RMS amplitude", f"{summary.rms_in:.4g} in, {summary.rms_out:.4g} out")
    if summary.non_finite:
        table.add_row("[red]non-finite samples", f"[red]{summary.non_finite:,} (NaN or Inf)")
    table.add_row("output size", f"{summary.bytes_written / 1e6:,.1f} MB")
    console.print(table)
