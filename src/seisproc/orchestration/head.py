"""seisproc's own Ray head: started in a process group of its own, ended with ``killpg``.

The head is ``ray start --head --block`` started by the service's watchdog, which leads a
new session: the group id is the watchdog's pid, and every process Ray forks (GCS,
raylet, agents, worker actors) is in that group, so one ``killpg`` ends all of it and
nothing else on the machine. It never touches
``/tmp/ray``: its temp folder is ``/tmp/seisproc-<uid>-<hash of SEISPROC_HOME>`` (short, as
Ray's unix sockets sit three folders below it and a socket path may not pass 107 bytes),
where ``ray start`` also writes its own ``ray_current_cluster``. Every port Ray would take
by a fixed default (10001 for the Ray client, 8265, 52365) is a free port probed here, so
a user's later ``ray start --head`` finds its defaults free.

Ray 2.60 listens on every interface whatever ``--node-ip-address`` says (measured: GCS
and raylet on ``*:port``), so the head is protected by Ray's token authentication with a
random token that only the state file (``0600``, in the private ``SEISPROC_HOME``) holds:
a process without it is refused (measured: "Failed to connect to Ray cluster").
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seisproc.errors import SeisprocError
from seisproc.orchestration.cluster import ENV_DEFAULTS
from seisproc.paths import service_temp_dir

__all__ = ["HeadState", "ServiceStartFailed", "end_group", "group_alive", "port_open",
           "start_head"]

SOCKET_PATH_LIMIT = 107
SOCKET_TAIL = len("/session_2026-12-06_23-26-49_841819_1234567/sockets/plasma_store")
START_TIMEOUT_S = 90.0
STARTED_LINE = "Ray runtime started"


class ServiceStartFailed(SeisprocError):
    """``ray start --head`` for seisproc's local Ray exited or did not come up."""


@dataclass(frozen=True)
class HeadState:
    """What a later command needs to find, use and end a running head."""

    address: str
    """``127.0.0.1:<port>``: the GCS, joined by explicit address only."""
    pgid: int
    """Process group of the head (the watchdog's pid); ``killpg`` ends it."""
    temp_dir: str
    """Ray's temp folder for this head (its sessions, logs, sockets)."""
    started_at: float
    """Unix time the head was started."""
    idle_s: float
    """Seconds without a connected driver after which the head stops itself."""
    token: str = field(repr=False)
    """Ray's authentication token of this head (``RAY_AUTH_TOKEN``)."""
    version: str = ""
    """seisproc's version that started it (warm actors run this version's code)."""

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadState:
        return cls(address=str(data["address"]), pgid=int(data["pgid"]),
                   temp_dir=str(data["temp_dir"]), started_at=float(data["started_at"]),
                   idle_s=float(data["idle_s"]), token=str(data["token"]),
                   version=str(data.get("version", "")))

    def env(self) -> dict[str, str]:
        """Environment a process needs to join this head."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token}


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's pick)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports nothing listens on now. The probes stay bound until
    all are picked: one at a time, the kernel may hand out the same port twice, and Ray
    then refuses to start ("trying to use a port number ... used by other components")."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def start_head(home: Path, idle_s: float, version: str) -> HeadState:
    """Start a head for ``home`` and wait until it runs; raises :class:`ServiceStartFailed`
    with the end of Ray's output when it does not.

    The process started here is the watchdog (:mod:`~seisproc.orchestration.idle_watch`),
    in a new session: it starts ``ray start --head --block`` as its child, so the head is
    in its process group (a process may only join a group of its own session).
    """
    temp = service_temp_dir(home)
    _clear_old_sessions(temp)
    ports, token = free_ports(5), secrets.token_hex(24)
    port = ports[0]
    log_path = temp / "head.log"
    with open(_private_log(log_path), "wb") as log:
        leader = subprocess.Popen(
            # by path, not -m: importing the package first would delay Ray's start by 2 s
            [sys.executable, str(Path(__file__).with_name("idle_watch.py")), str(port), str(temp),
             repr(idle_s), json.dumps(_head_command(ports, temp))],
            env={**_head_env(token), "SEISPROC_HOME": str(home)}, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(temp))
    state = HeadState(f"127.0.0.1:{port}", leader.pid, str(temp), time.time(), idle_s,
                      token, version)
    try:
        _wait_started(leader, log_path)
    except BaseException:
        end_group(leader.pid)
        leader.wait()
        raise
    return state


def _head_command(ports: list[int], temp: Path) -> list[str]:
    """``ray start --head`` on ``ports[0]``, the other ports for the components Ray
    would otherwise give fixed defaults."""
    port = ports[0]
    ray = str(Path(sys.executable).parent / "ray")
    command = [ray if os.access(ray, os.X_OK) else "ray", "start", "--head", "--block",
               f"--port={port}", f"--temp-dir={temp}", "--include-dashboard=false",
               "--disable-usage-stats"]
    options = ["--dashboard-port", "--dashboard-agent-listen-port", "--runtime-env-agent-port"]
    if _ray_client_installed():  # else Ray starts no client server, and refuses the option
        options.append("--ray-client-server-port")
    command += [f"{option}={value}" for option, value in zip(options, ports[1:], strict=False)]
    return command


def _ray_client_installed() -> bool:
    from ray._private.utils import get_ray_client_dependency_error

    return get_ray_client_dependency_error() is None


def _head_env(token: str) -> dict[str, str]:
    env = {**ENV_DEFAULTS, **os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
           "PYTHONUNBUFFERED": "1"}
    for name in ("RAY_ADDRESS", "SEISPROC_RAY_ADDRESS"):
        env.pop(name, None)
    return env


def _private_log(path: Path) -> Path:
    from seisproc.paths import open_private, private_dir

    private_dir(path.parent)
    os.close(open_private(path))
    return path


def _wait_started(head: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if STARTED_LINE in text:
            return
        if head.poll() is not None:
            tail = " ".join(text.strip().splitlines()[-3:])
            raise ServiceStartFailed(f"seisproc's local Ray did not start (exit status "
                                     f"{head.returncode}): {tail}; see {log_path}")
        time.sleep(0.05)
    raise ServiceStartFailed(f"seisproc's local Ray did not start within "
                             f"{START_TIMEOUT_S:g} s; see {log_path}")


def _clear_old_sessions(temp: Path) -> None:
    """Remove what earlier heads of this folder left (they are dead: the caller holds the
    start lock and found none running)."""
    if temp.exists():
        shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(mode=0o700, exist_ok=True)
    os.chmod(temp, 0o700)


def group_alive(state: HeadState) -> bool:
    """Whether the head's group leader runs and is this head's watchdog (not a pid
    reused by another program)."""
    try:
        os.killpg(state.pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{state.pgid}/cmdline")
    if not cmdline.exists():
        return sys.platform != "linux"
    with contextlib.suppress(OSError):
        return state.temp_dir in cmdline.read_bytes().decode(errors="replace")
    return False


def port_open(state: HeadState, timeout_s: float = 1.0) -> bool:
    """Whether the head's GCS port accepts a TCP connection within ``timeout_s``."""
    try:
        socket.create_connection(("127.0.0.1", state.port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def end_group(pgid: int, grace_s: float = 5.0) -> None:
    """SIGKILL the process group ``pgid`` and wait up to ``grace_s`` for it to go.

    SIGKILL, not SIGTERM: a Ray head drains for up to 30 s on SIGTERM, and this head holds
    nothing to save (jobs are checkpointed by their drivers).
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(-pgid, os.WNOHANG)  # our own children would stay zombies
        time.sleep(0.02)
