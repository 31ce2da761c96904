"""``seisproc``: the command group and how errors reach the user.

Errors a user can fix (:class:`~seisproc.errors.SeisprocError`, a missing file, a full
disk) print as one line on stderr and exit 1; ``--debug`` shows the traceback instead.
Ctrl-C exits 130 after the command has cleaned up its partial output.

Each command's module loads only when that command runs (:data:`COMMANDS`): a warm
``seisproc run`` should not pay for the charts of ``seisproc report`` or the Qt of
``seisproc gui``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import subprocess
import sys
import traceback
from typing import Any

import click

from seisproc._version import __version__
from seisproc.cli.warm.protocol import uses_local_ray
from seisproc.errors import SeisprocError

__all__ = ["COMMANDS", "cli", "main"]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

COMMANDS: dict[str, str] = {
    "synth": "seisproc.cli.synth:synth",
    "run": "seisproc.cli.run:run",
    "demo": "seisproc.cli.demo:demo",
    "jobs": "seisproc.cli.jobs:jobs",
    "resume": "seisproc.cli.jobs:resume",
    "pause": "seisproc.cli.jobs:pause",
    "cancel": "seisproc.cli.jobs:cancel",
    "info": "seisproc.cli.inspect:info",
    "processors": "seisproc.cli.inspect:processors",
    "monitor": "seisproc.cli.monitor:monitor",
    "panels": "seisproc.cli.panels:panels",
    "velan": "seisproc.cli.velan:velan",
    "gui": "seisproc.cli.gui:gui",
    "history": "seisproc.cli.history:history",
    "stats": "seisproc.cli.history:stats",
    "report": "seisproc.cli.history:report",
    "service": "seisproc.cli.service:service",
    "batch": "seisproc.cli.batch:batch",
    "replay": "seisproc.cli.replay:replay",
    "show": "seisproc.cli.replay:show",
    "diff": "seisproc.cli.diff:diff",
}
"""Each command's name and where it lives, as ``module:attribute``."""


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not _is_user_error(exc):
                raise
            if ctx.meta.get("seisproc.debug"):
                traceback.print_exc()
            click.secho(f"error: {_one_line(exc)}", fg="red", err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.secho("interrupted: nothing was left under the output's name", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def _database_error(exc: BaseException) -> bool:
    """An SQLAlchemy error, checked without importing SQLAlchemy: if it is not loaded, no
    command used the history and none of its errors can have been raised."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


def _is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, (SeisprocError, OSError)) or _database_error(exc)


def _one_line(exc: BaseException) -> str:
    if _database_error(exc):
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


def main(argv: list[str] | None = None, *, hosted: bool = False) -> None:
    """Console-script entry point: run the command, then end the process at once.

    A job command goes to the warm command server when one runs
    (:mod:`seisproc.cli.warm`): it has already imported what the command needs, which
    is most of a warm run's time. Otherwise (and in the server's forked child,
    ``hosted``) the command runs here.

    When a command returns, its work is done: outputs synced and renamed, the history
    written and closed. What Python would still do, Ray's driver disconnect (0.3 s; the
    GCS notices a driver gone by itself, as after a kill) and tearing down a few thousand
    modules (0.5 s), is most of a second of a warm ``seisproc run`` and buys nothing. So
    the streams and logs are flushed and the process leaves with ``os._exit``; a local
    Ray it started itself is shut down first. A bug's traceback still ends the normal way.
    """
    args = sys.argv[1:] if argv is None else argv
    started_with = dict(os.environ)
    if not hosted:
        from seisproc.cli.warm.client import run_on_server

        status = run_on_server(args)
        if status is not None:
            _leave(status)
        _start_local_ray_early(args)
    try:
        cli.main(args=argv, prog_name="seisproc", standalone_mode=True)
        code: int | str | None = 0
    except SystemExit as exit_:
        code = exit_.code
    if not hosted:
        _start_command_server(started_with)
    _leave(code)


def _start_local_ray_early(args: list[str]) -> None:
    """Start seisproc's local Ray in a process of its own as a command that will need
    it begins: a cold start takes 5-7 s, which then overlaps this command's imports and
    its reading of the flow instead of following them (about a second sooner on 2
    cores). ``seisproc service start --quiet`` does nothing when the service runs; when
    it starts it, this command waits for it and says so. Not for ``--help``, an address
    (option or environment), or ``--detach`` (the background run does it)."""
    if not uses_local_ray(args, os.environ):
        return
    with contextlib.suppress(OSError):  # the command starts it itself, as before
        subprocess.Popen([sys.executable, "-m", "seisproc", "service", "start", "--quiet"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)


def _start_command_server(env: dict[str, str]) -> None:
    """After a command that ran on the local Ray service, start the command server for
    the next ones (in the background, once: it imports for about 2 s), unless one runs."""
    service = sys.modules.get("seisproc.orchestration.service")
    if service is None or not service.on_service():
        return
    from seisproc.cli.warm.client import start_server

    with contextlib.suppress(OSError):  # the next command runs without it, as before
        start_server(env)


def _leave(code: int | str | None) -> None:
    if isinstance(code, str):
        click.echo(code, err=True)
        code = EXIT_ERROR
    cluster = sys.modules.get("seisproc.orchestration.cluster")
    if cluster is not None:
        cluster.stop_own_instance()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe has nothing left to say
            stream.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
