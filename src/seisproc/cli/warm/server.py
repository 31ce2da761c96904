"""The command server: a process that has imported what a job command needs, and forks
a copy of itself to run each one.

A warm ``seisproc run`` spent 1.7 s of its 1.9 s importing Ray, SQLAlchemy, numpy and
seisproc's engine, the same modules every time. This process imports them once (started
in the background by the first command that ran on the local Ray service) and then, for
each request (:mod:`~seisproc.cli.warm.client`), forks: the child takes the caller's
terminal, folder, environment and arguments and runs the command as the caller would
have, joining the service and opening the history itself (nothing connected is shared
across the fork: this process never joins Ray or opens a database). It lives as long as
the service it was started beside, and ends when that service ends or is replaced, when
seisproc's code changes on disk, or on SIGTERM (``seisproc service stop``), after the
commands it runs have ended.

It refuses (and the caller runs the command itself) a request from another user, from
another interpreter, or with another import-time environment
(:data:`~seisproc.cli.warm.protocol.IMPORT_TIME_PREFIXES`).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import io
import json
import logging
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seisproc.cli.warm import protocol
from seisproc.identity import code_identity, source_digest
from seisproc.paths import open_private, private_dir, seisproc_home

__all__ = ["main"]

log = logging.getLogger("seisproc.cli.warm.server")

PRELOAD = ("numpy", "sqlalchemy", "sqlalchemy.dialects.sqlite", "ray", "seisproc.engine",
           "seisproc.orchestration", "seisproc.jobs.manager", "seisproc.alerts",
           "seisproc.cli.run", "seisproc.cli.jobs", "seisproc.cli.follow",
           "seisproc.cli.signals", "seisproc.cli.pipeline", "seisproc.cli.replay",
           "seisproc.production.pipeline", "seisproc.processing")
"""What a job command imports (measured with ``python -X importtime``)."""

WATCH_S = 1.0
_PEERCRED = struct.Struct("3i")


@dataclass
class _Command:
    pid: int
    caller: socket.socket
    pidfd: int


class Server:
    """Accepts requests on ``folder``'s socket while ``head`` (the service's recorded
    state) is the service that runs."""

    def __init__(self, folder: Path, head: Any, identity: str, env: dict[str, str]) -> None:
        self.folder = folder
        self.head = head
        self.identity = identity
        self.env = env
        self.selector = selectors.DefaultSelector()
        self.commands: dict[int, _Command] = {}
        self.draining = False
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = folder / protocol.SOCKET
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a dead server's: this one holds the lock
        self.listener.bind(str(path))
        os.chmod(path, 0o600)
        self.listener.listen(16)
        self.socket_inode = path.stat().st_ino
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        signal.signal(signal.SIGTERM, lambda *_: self.drain("asked to stop"))

    # ------------------------------------------------------------------ the loop
    def serve(self) -> None:
        next_watch = time.monotonic()
        while not (self.draining and not self.commands):
            for key, _ in self.selector.select(timeout=WATCH_S):
                if key.data is None:
                    self._accept()
                else:
                    kind, command = key.data
                    (self._ended if kind == "pidfd" else self._caller_spoke)(command)
            if time.monotonic() >= next_watch:
                next_watch = time.monotonic() + WATCH_S
                self._watch()
        log.info("command server %d ends", os.getpid())

    def drain(self, why: str) -> None:
        """Take no more commands; end once those running have ended."""
        if self.draining:
            return
        log.info("command server %d stops taking commands: %s", os.getpid(), why)
        self.draining = True
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.listener)
        with contextlib.suppress(OSError):
            if (self.folder / protocol.SOCKET).stat().st_ino == self.socket_inode:
                (self.folder / protocol.SOCKET).unlink()
        self.listener.close()

    def _watch(self) -> None:
        from seisproc.orchestration.head import group_alive
        from seisproc.orchestration.service import read_state

        if self.draining:
            return
        try:
            now = read_state()
            inode = (self.folder / protocol.SOCKET).stat().st_ino
        except (OSError, ValueError, KeyError):
            now, inode = None, -1
        if now is None or (now.pgid, now.started_at) != (self.head.pgid, self.head.started_at):
            self.drain("the local Ray service it was started beside ended or was replaced")
        elif not group_alive(now):
            self.drain("the local Ray service ended")
        elif inode != self.socket_inode:
            self.drain("its socket was removed or replaced")

    # ------------------------------------------------------------------ requests
    def _accept(self) -> None:
        try:
            caller, _ = self.listener.accept()
        except OSError:
            return
        caller.settimeout(5.0)
        try:
            request, fds = protocol.read_request(caller)
        except (OSError, ValueError) as exc:
            log.warning("a malformed request: %s", exc)
            caller.close()
            return
        try:
            why = self._refusal(caller, request, fds)
            if why is not None:
                log.info("refused %s: %s", request.get("argv"), why)
                with contextlib.suppress(OSError):
                    protocol.send_line(caller, {"refused": why})
                caller.close()
                return
            self._fork(caller, request, fds)
        finally:
            for fd in fds:
                os.close(fd)

    def _refusal(self, caller: socket.socket, request: dict[str, Any], fds: list[int],
                 ) -> str | None:
        uid = _PEERCRED.unpack(caller.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                 _PEERCRED.size))[1]
        if uid != os.getuid():
            return f"user {uid} is not this server's user"
        if len(fds) != 3 or not isinstance(request.get("argv"), list) \
                or not isinstance(request.get("env"), dict):
            return "a request without its arguments, environment or terminal"
        if request.get("executable") != sys.executable:
            return f"another interpreter ({request.get('executable')})"
        differing = protocol.env_differences(request["env"], self.env)
        if differing:
            return f"another import-time environment ({', '.join(differing)} differ)"
        if request.get("limits") != protocol.resource_limits():
            return "other resource limits (ulimit)"
        if source_digest() != self.identity:
            self.drain("seisproc's code changed on disk")
            return "seisproc's code changed since this server started"
        if threading.active_count() > 1:
            return "this server runs threads (it cannot fork safely)"
        return None

    def _fork(self, caller: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                self._become(request, fds, caller)
            finally:
                os._exit(70)
        log.info("runs %s as pid %d", request["argv"][:1], pid)
        pidfd = os.pidfd_open(pid)
        command = _Command(pid, caller, pidfd)
        self.commands[pid] = command
        caller.settimeout(None)
        try:
            protocol.send_line(caller, {"pid": pid})
        except OSError:
            self._caller_spoke(command)  # gone already: so is its command
        self.selector.register(pidfd, selectors.EVENT_READ, ("pidfd", command))
        self.selector.register(caller, selectors.EVENT_READ, ("caller", command))

    def _caller_spoke(self, command: _Command) -> None:
        """The caller said something (it never does) or went away: killed, as a
        ``seisproc run`` can be. Its command goes with it, as it would have."""
        try:
            data = command.caller.recv(1, socket.MSG_PEEK)
        except OSError:
            data = b""
        if data:
            return
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(command.caller)
        with contextlib.suppress(ProcessLookupError):
            os.kill(command.pid, signal.SIGKILL)

    def _ended(self, command: _Command) -> None:
        _, status = os.waitpid(command.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            protocol.send_line(command.caller, {"status": code})
        for registered in (command.pidfd, command.caller):
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(registered)
        os.close(command.pidfd)
        command.caller.close()
        del self.commands[command.pid]

    # ------------------------------------------------------------------ the child
    def _become(self, request: dict[str, Any], fds: list[int], caller: socket.socket) -> None:
        """In the forked child: drop the server's descriptors and signal handlers, take
        the caller's terminal, folder, environment and arguments, and run the command.
        Never returns."""
        self.selector.close()
        self.listener.close()
        caller.close()
        for other in self.commands.values():
            other.caller.close()
            os.close(other.pidfd)
        _close_lock()
        os.setsid()  # out of the server's group: nothing aimed at the server hits it
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python starts: EPIPE, not death
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum in request.get("ignored_signals") or ():
            signal.signal(int(signum), signal.SIG_IGN)  # as in the caller (nohup, a job)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        fds.clear()
        _standard_streams()
        os.chdir(request["cwd"])
        os.umask(int(request.get("umask", 0o022)))
        os.environ.clear()
        os.environ.update(request["env"])
        if isinstance(request.get("path"), list):  # modules imported later come from there
            sys.path[:] = [str(entry) for entry in request["path"]]
        argv = [str(arg) for arg in request["argv"]]
        sys.argv = ["seisproc", *argv]
        logging.getLogger().handlers.clear()
        from seisproc.cli.main import main as command_main

        command_main(argv, hosted=True)


def _standard_streams() -> None:
    """New ``sys.stdin``/``stdout``/``stderr`` on descriptors 0-2, buffered as Python
    would buffer them at start (line by line on a terminal)."""
    encoding = os.environ.get("PYTHONIOENCODING", "utf-8").partition(":")[0] or "utf-8"
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "rb", closefd=False)),
                                 encoding=encoding)
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "wb", closefd=False)),
                                  encoding=encoding, line_buffering=os.isatty(1))
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "wb", closefd=False)),
                                  encoding=encoding, errors="backslashreplace",
                                  line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]


_lock_fd: int | None = None


def _close_lock() -> None:
    global _lock_fd
    if _lock_fd is not None:
        os.close(_lock_fd)
        _lock_fd = None


def _write_info(folder: Path, identity: str) -> None:
    partial = folder / f".{protocol.INFO}.{os.getpid()}"
    with os.fdopen(open_private(partial), "w") as stream:
        json.dump({"pid": os.getpid(), "started_at": time.time(), "identity": identity}, stream)
    os.replace(partial, folder / protocol.INFO)


def main() -> None:
    """``python -m seisproc.cli.warm.server``: serve this seisproc home's commands while
    its local Ray service runs; exit at once if a server already does, or no service."""
    global _lock_fd
    env = dict(os.environ)  # before any import changes it (Ray sets RAY_CLIENT_MODE)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    folder = private_dir(protocol.server_dir(seisproc_home()))
    _lock_fd = open_private(folder / protocol.LOCK, os.O_RDWR)
    try:
        fcntl.flock(_lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # one server per seisproc home
    from seisproc.orchestration.service import live_head

    head = live_head()
    if head is None:
        return
    began = time.perf_counter()
    for module in PRELOAD:
        importlib.import_module(module)
    # the compiled IBM conversions too, for commands that read samples themselves
    # (panels, velan): no served command pays numba's set-up
    importlib.import_module("seisproc.io.ibm").warm()
    identity = code_identity()  # computed once here, inherited by every command
    server = Server(folder, head, identity, env)
    _write_info(folder, identity)
    log.info("command server %d ready in %.1f s", os.getpid(), time.perf_counter() - began)
    server.serve()


if __name__ == "__main__":
    main()
