"""The caller's side: hand a command to the warm command server, or start one.

A hosted command runs in a process forked from the server, with this process's
arguments, folder, environment and terminal (its stdin, stdout and stderr are passed
over the socket), so what it prints, asks and returns is what it would have printed,
asked and returned here. This process stays as its stand-in: the signals it gets
(Ctrl-C, SIGTERM, SIGHUP, a window resize) are passed on, it exits with the command's
status (or dies of the signal that killed it), and if it is itself killed (SIGKILL) the
server kills the command as well, so a killed ``seisproc run`` means what it meant
without the server: the job's process is gone and the next command recovers the job.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from seisproc.cli.warm import protocol
from seisproc.cli.warm.control import running_server
from seisproc.paths import open_private, private_dir, seisproc_home

__all__ = ["run_on_server", "start_server"]

CONNECT_TIMEOUT_S = 2.0
ANSWER_TIMEOUT_S = 10.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGWINCH, signal.SIGTSTP,
             signal.SIGCONT)


def run_on_server(args: Sequence[str]) -> int | None:
    """Run ``args`` on the command server: the command's exit status, or ``None`` when
    it was not run there (no server, disabled, another environment, ...) and the
    caller should run it itself."""
    env = dict(os.environ)
    if not protocol.hosted_command(args, env):
        return None
    folder = protocol.server_dir(seisproc_home())
    if not _ours(folder):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(str(folder / protocol.SOCKET))
    except OSError:
        sock.close()
        return None
    with sock, _Forwarding() as forwarding:  # signals ignored here stay ignored
        try:
            protocol.send_request(sock, {"argv": list(args), "cwd": os.getcwd(), "env": env,
                                         "executable": sys.executable, "path": sys.path,
                                         "umask": protocol.current_umask(),
                                         "limits": protocol.resource_limits(),
                                         "ignored_signals": ignored_signals()}, (0, 1, 2))
            sock.settimeout(ANSWER_TIMEOUT_S)
            lines = protocol.Lines(sock)
            first = lines.next()
        except (OSError, ValueError):
            return None
        if first is None or "pid" not in first:
            return None  # refused, or gone before it forked: run here
        forwarding.target(int(first["pid"]))
        sock.settimeout(None)
        try:
            last = lines.next()
        except (OSError, ValueError):
            last = None
    if last is None or "status" not in last:
        return _server_lost(int(first["pid"]))
    return _exit_status(int(last["status"]))


def _ours(folder: Path) -> bool:
    """Whether ``folder`` is this user's and private: a socket anyone could have put in
    a shared ``/tmp`` would receive this command's environment and terminal."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not stat.S_IMODE(info.st_mode) & 0o077


class _Forwarding:
    """Signals to this process go to the command's process; until it is known, they
    wait."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._pending: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _Forwarding:
        self._previous = {sig: signal.signal(sig, self._forward) for sig in FORWARDED
                          if sig not in ignored_signals()}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def target(self, pid: int) -> None:
        self._pid = pid
        for signum in self._pending:
            self._send(signum)
        self._pending.clear()

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        if self._pid is None:
            self._pending.append(signum)
        else:
            self._send(signum)

    def _send(self, signum: int) -> None:
        """Pass ``signum`` on. Ctrl-Z (SIGTSTP) stops the command, then this process, as
        the shell expects of its foreground job; ``fg`` (SIGCONT) continues both."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid or 0, signal.SIGSTOP if signum == signal.SIGTSTP else signum)
        if signum == signal.SIGTSTP:
            os.kill(os.getpid(), signal.SIGSTOP)


def ignored_signals() -> list[int]:
    """The signals this process ignores (``nohup``, a shell's background job): the
    command ignores them too, as it would have if it had been run here."""
    return [int(sig) for sig in FORWARDED if signal.getsignal(sig) is signal.SIG_IGN]


def _exit_status(status: int) -> int:
    """The status to leave with; a command killed by a signal kills this process with
    the same signal, as a shell expects of the command it started."""
    if status >= 0:
        return status
    signum = -status
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        time.sleep(1.0)
    return 128 + signum


def _server_lost(pid: int) -> int:
    """The server ended while the command ran (killed): wait for the command, whose
    status nobody can report now."""
    with contextlib.suppress(KeyboardInterrupt):
        while _exists(pid):
            time.sleep(0.1)
    print(f"error: seisproc's command server ended while the command ran (pid {pid}); "
          "its exit status is unknown: 'seisproc jobs' shows its job", file=sys.stderr)
    return 1


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_server(env: Mapping[str, str]) -> None:
    """Start a command server for this seisproc home in the background, unless one
    runs. ``env`` is the environment this command started with (before it joined the
    local Ray, which adds the service's token to it): the server's imports see what
    later commands' imports would."""
    if not protocol.enabled(env):
        return
    folder = private_dir(protocol.server_dir(seisproc_home()))
    if running_server() is not None:
        return
    log = open_private(folder / protocol.LOG, os.O_WRONLY | os.O_APPEND)
    try:
        subprocess.Popen([sys.executable, "-m", "seisproc.cli.warm.server"], env=dict(env),
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=str(folder),
                         start_new_session=True)
    finally:
        os.close(log)
