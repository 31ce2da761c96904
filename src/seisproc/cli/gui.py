"""``seisproc gui``: the desktop application, on the same engine as ``seisproc run``.

PySide6 is an optional dependency (the ``gui`` extra): the command imports it only when
it runs, so every other command works without it, and says how to install it if missing.
"""

from __future__ import annotations

import importlib.util

import click

from seisproc.cli.run import address_option, database_option
from seisproc.errors import SeisprocError

__all__ = ["gui"]

_INSTALL = "install it with: pip install 'seisproc[gui]'"


@click.command()
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="CPU workers; default: one per CPU of the cluster.")
@click.option("--max-running", type=click.IntRange(min=1), default=4, show_default=True,
              help="Jobs that run at once; more wait in the queue.")
@address_option
@database_option
@click.pass_context
def gui(ctx: click.Context, workers: int | None, max_running: int, address: str | None,
        database_url: str | None) -> None:
    """Open the desktop application: submit, watch, pause, resume and cancel jobs."""
    if importlib.util.find_spec("PySide6") is None:
        raise SeisprocError(f"the desktop application needs PySide6; {_INSTALL}")
    try:
        from seisproc.gui.app import run_gui
    except ImportError as exc:  # PySide6 present but Qt's system libraries are not
        raise SeisprocError(f"the desktop application cannot start: {exc}; {_INSTALL} "
                            "and Qt's system libraries (libEGL, libxkbcommon)") from None
    ctx.exit(run_gui(database_url=database_url, address=address, workers=workers,
                     max_running=max_running))
