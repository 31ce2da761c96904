"""``seisproc service start|status|stop``: seisproc's local Ray, which outlives a command.

``seisproc run`` without an address starts it the first time and reuses it, with its
workers warm, until it has been idle for ``SEISPROC_SERVICE_IDLE_S`` (600 s).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # Ray loads only when a service command runs, not with every command
    from seisproc.orchestration.service import ServiceStatus

__all__ = ["service"]


@click.group()
def service() -> None:
    """seisproc's local Ray, kept up between commands with its workers warm."""


@service.command()
@click.option("--quiet", is_flag=True, help="Say nothing (errors excepted).")
def start(quiet: bool) -> None:
    """Start the local Ray now, if it is not running (it stops after its idle time)."""
    from seisproc.orchestration.service import ensure_service

    state = ensure_service(None if quiet else _tell)
    if not quiet:
        click.echo(f"seisproc's local Ray: running at {state.address}")


def _tell(message: str) -> None:
    click.echo(message, err=True)


@service.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Show whether the local Ray runs, where, for how long, and its warm workers."""
    from seisproc.cli.warm.control import running_server
    from seisproc.orchestration.service import service_status

    now, server = service_status(), running_server()
    if as_json:
        click.echo(json.dumps({**now.to_dict(), "command_server_pid": server}, indent=2))
        return
    click.echo("\n".join(_describe(now)))
    if now.running:
        click.echo(f"  command server: pid {server} (runs the next commands warm)" if server
                   else "  command server: not running (the next run on it starts one)")


@service.command()
def stop() -> None:
    """End the local Ray and its workers (the next run starts a fresh one)."""
    from seisproc.cli.warm.control import stop_server
    from seisproc.orchestration.service import stop_service

    stop_server()  # it ends once the commands it runs have ended
    if stop_service():
        click.echo("seisproc's local Ray stopped")
    else:
        click.echo("seisproc's local Ray was not running")


def _describe(now: ServiceStatus) -> list[str]:
    if not now.running:
        return ["seisproc's local Ray: not running (the next 'seisproc run' starts it)"]
    if now.idle_left_s is None:
        idle = f"in use by {len(now.drivers)} process(es) (pids " \
               f"{', '.join(map(str, now.drivers))})"
    else:
        idle = f"idle, stops in {_duration(now.idle_left_s)}"
    alive = [w for w in now.workers if w.state == "ALIVE"]
    lines = [f"seisproc's local Ray: running at {now.address} (pid {now.pid}), up "
             f"{_duration(now.uptime_s)}, {idle}",
             f"  stops after {_duration(now.idle_s)} without a command; "
             f"temp dir {now.temp_dir}",
             f"  warm workers: {len(alive)}"]
    lines += [f"    {w.name}  pid {w.pid}  actor {w.actor_id}" for w in alive]
    return lines


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return time.strftime("%H:%M:%S", time.gmtime(seconds)) if minutes >= 60 else \
        f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
