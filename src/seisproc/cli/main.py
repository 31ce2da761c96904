"""``seisproc``: the command group and how errors reach the user.

Errors a user can fix (:class:`~seisproc.errors.SeisprocError`, a missing file, a full
disk) print as one line on stderr and exit 1; ``--debug`` shows the traceback instead.
Ctrl-C exits 130 after the command has cleaned up its partial output.
"""

from __future__ import annotations

import traceback
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from seisproc._version import __version__
from seisproc.errors import SeisprocError

__all__ = ["cli", "main"]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SeisprocError, OSError, SQLAlchemyError) as exc:
            if ctx.meta.get("seisproc.debug"):
                traceback.print_exc()
            click.secho(f"error: {_one_line(exc)}", fg="red", err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.secho("interrupted: nothing was left under the output's name", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SQLAlchemyError):
        cause = getattr(exc, "orig", None) or exc
        return f"the job history database failed: {type(cause).__name__}: {cause}"
    if isinstance(exc, OSError) and not isinstance(exc, SeisprocError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seisproc")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """seisproc: seismic processing flows as jobs, from the command line."""
    ctx.meta["seisproc.debug"] = debug


def _register_commands() -> None:
    from seisproc.cli import demo, inspect, jobs, run, synth
    from seisproc.cli.monitor import monitor

    for command in (synth.synth, run.run, demo.demo, jobs.jobs, jobs.resume, jobs.pause,
                    jobs.cancel, inspect.info, inspect.processors):
        cli.add_command(command)
    cli.add_command(monitor)
    from seisproc.cli.gui import gui

    cli.add_command(gui)
    from seisproc.cli.history import history, report, stats

    for command in (history, stats, report):
        cli.add_command(command)
    from seisproc.cli.service import service

    cli.add_command(service)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="seisproc", standalone_mode=True)


if __name__ == "__main__":
    main()
