"""Where ``seisproc`` and its command server meet, and what they say to each other.

Only the standard library and :mod:`seisproc.paths`: the client side runs before a
command has imported anything, and what it saves is exactly those imports.

A request is one message: a 4-byte length, then JSON (the arguments, the working
folder, the environment, the interpreter), with the caller's stdin, stdout and stderr
attached as file descriptors (``SCM_RIGHTS``). The server answers in JSON lines:
``{"refused": why}`` (the caller then runs the command itself), or ``{"pid": n}`` once
the command runs in process ``n``, then ``{"status": s}`` when it ended (its exit code,
or minus the signal that killed it).
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from seisproc.paths import service_temp_dir

__all__ = [
    "ENABLE_ENV",
    "HISTORY_COMMANDS",
    "LOCAL_RAY_COMMANDS",
    "Lines",
    "env_differences",
    "hosted_command",
    "read_request",
    "send_line",
    "send_request",
    "server_dir",
    "uses_local_ray",
]

ENABLE_ENV = "SEISPROC_COMMAND_SERVER"
"""``0`` (or ``off``, ``no``, ``false``): every command imports and runs in its own
process, and no command server is started."""

LOCAL_RAY_COMMANDS = ("run", "resume", "panels", "replay", "velan")
"""Commands that run jobs on seisproc's local Ray unless given an address."""

HISTORY_COMMANDS = ("jobs", "pause", "cancel", "show")
"""Commands that only read or ask the job history: served too when a server runs (they
import the engine's model and the history, 1.2-1.5 s of a 1.5-2 s command)."""

SOCKET, LOCK, INFO, LOG = "server.sock", "server.lock", "server.json", "server.log"

IMPORT_TIME_PREFIXES = ("RAY_", "PYTHON", "OMP_", "OPENBLAS_", "MKL_", "NUMEXPR_", "LD_",
                        "CUDA_", "TORCH", "NUMBA_", "GRPC_", "SEISPROC_WORKER_")
"""Environment variables that libraries read when they are imported (Ray's
configuration, thread pools, the module path): a server imported with other values
would run a command differently from how the command would run itself."""

_LENGTH = struct.Struct("!I")
MAX_REQUEST_BYTES = 4 << 20


def server_dir(home: Path) -> Path:
    """The command server's folder for seisproc home ``home`` (private to its user)."""
    return service_temp_dir(home) / "commands"


def import_time_env(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``env`` that take effect at import time."""
    return {key: value for key, value in env.items() if key.startswith(IMPORT_TIME_PREFIXES)}


def env_differences(one: Mapping[str, str], other: Mapping[str, str]) -> list[str]:
    """Names (never values: tokens live there) of the import-time variables that differ."""
    a, b = import_time_env(one), import_time_env(other)
    return sorted(key for key in a.keys() | b.keys() if a.get(key) != b.get(key))


LIMITS = ("RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_STACK",
          "RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_CPU")
"""The resource limits (``ulimit``) a forked command inherits from the server: a caller
with others runs the command itself."""


def resource_limits() -> dict[str, list[int]]:
    import resource

    return {name: list(resource.getrlimit(getattr(resource, name))) for name in LIMITS
            if hasattr(resource, name)}


def current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def enabled(env: Mapping[str, str]) -> bool:
    return env.get(ENABLE_ENV, "1").strip().lower() not in ("0", "off", "no", "false")


def uses_local_ray(args: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether the command line ``args`` runs jobs on seisproc's local Ray: one of
    :data:`LOCAL_RAY_COMMANDS`, with no address (option or environment), and neither
    ``--help`` nor ``--detach`` (the background run decides for itself)."""
    command = next((arg for arg in args if not arg.startswith("-")), None)
    if command not in LOCAL_RAY_COMMANDS:
        return False
    if any(arg in ("-h", "--help", "--detach") or arg.startswith("--address")
           for arg in args):
        return False
    return not (env.get("SEISPROC_RAY_ADDRESS") or env.get("RAY_ADDRESS"))


def hosted_command(args: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether ``args`` should be run by the command server when one is up."""
    if not enabled(env):
        return False
    command = next((arg for arg in args if not arg.startswith("-")), None)
    return command in HISTORY_COMMANDS or uses_local_ray(args, env)


# ---------------------------------------------------------------------- messages
def send_request(sock: socket.socket, request: Mapping[str, Any], fds: Sequence[int]) -> None:
    body = json.dumps(request).encode(errors="surrogateescape")
    payload = _LENGTH.pack(len(body)) + body
    sent = socket.send_fds(sock, [payload], list(fds))
    if sent < len(payload):
        sock.sendall(payload[sent:])


def read_request(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """The request on ``sock`` and the descriptors that came with it (the caller's to
    close). Raises :class:`ValueError` on a malformed or oversized request."""
    data, fds, _flags, _addr = socket.recv_fds(sock, 65536, 3)
    try:
        while len(data) < _LENGTH.size:
            data += _recv_some(sock)
        (length,) = _LENGTH.unpack_from(data)
        if length > MAX_REQUEST_BYTES:
            raise ValueError(f"a request of {length} bytes")
        while len(data) < _LENGTH.size + length:
            data += _recv_some(sock)
        request = json.loads(data[_LENGTH.size:_LENGTH.size + length]
                             .decode(errors="surrogateescape"))
        if not isinstance(request, dict):
            raise ValueError("a request that is not an object")
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return request, list(fds)


def _recv_some(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ValueError("the request ended early")
    return chunk


def send_line(sock: socket.socket, message: Mapping[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


class Lines:
    """JSON lines read from a socket, one at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def next(self) -> dict[str, Any] | None:
        """The next message, or ``None`` when the other end closed."""
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(4096)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = json.loads(line)
        return message if isinstance(message, dict) else None
