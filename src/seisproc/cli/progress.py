"""Progress bars for long work: traces done, traces per second, time left."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["trace_progress", "stderr_console"]


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s", style="progress.data.speed")


def stderr_console() -> Console:
    return Console(stderr=True)


@contextmanager
def trace_progress(description: str, total: int,
                   unit: str = "traces") -> Iterator[Progress]:
    """A progress bar on stderr; ``advance`` it by the traces (or items) done."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(bar_width=20),
               MofNCompleteColumn(), TextColumn(unit), _RateColumn(unit), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=stderr_console(), transient=False) as progress:
        progress.add_task(description, total=total)
        yield progress
