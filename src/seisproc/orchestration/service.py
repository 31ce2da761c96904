"""seisproc's local Ray service: a head that outlives the command and stops when idle.

``seisproc run``, ``resume``, the GUI and :func:`~seisproc.engine.open_manager` run on it
when no address is given (``--address``, ``SEISPROC_RAY_ADDRESS``, ``RAY_ADDRESS``) and
this process is not already connected to a Ray. The first command starts it (5-8 s
here); the next ones join it by explicit address in about a second and find its worker
actors warm (:class:`~seisproc.orchestration.executor.RayExecutor`). A watchdog in the
head's process group (:mod:`seisproc.orchestration.idle_watch`) ends it once no driver
has been connected for ``SEISPROC_SERVICE_IDLE_S`` seconds (600 by default).

It never joins a Ray the user started: it is found only through its state file in
``SEISPROC_HOME`` (``ray-service.json``), joined by its explicit ``127.0.0.1:<port>``,
and never through ``address="auto"`` or ``/tmp/ray``. A recorded head whose group is
gone or whose port is closed is dead: the next command starts a fresh one. Starts are
serialised by ``flock`` on ``ray-service.lock``, so two first commands start one head.

>>> state = ensure_service()                      # doctest: +SKIP
>>> service_status().running                      # doctest: +SKIP
True
>>> stop_service()                                # doctest: +SKIP
True
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seisproc.errors import SeisprocError
from seisproc.identity import running_code
from seisproc.orchestration.head import (
    HeadState,
    end_group,
    group_alive,
    port_open,
    start_head,
)
from seisproc.paths import open_private, seisproc_home

__all__ = [
    "IDLE_ENV",
    "NAMESPACE",
    "ServiceStatus",
    "WarmWorker",
    "ensure_service",
    "idle_seconds",
    "live_drivers",
    "live_head",
    "on_service",
    "read_state",
    "resolve_address",
    "service_gcs",
    "service_status",
    "stop_service",
]

IDLE_ENV = "SEISPROC_SERVICE_IDLE_S"
DEFAULT_IDLE_S = 600.0
NAMESPACE = "seisproc"
"""Ray namespace of the warm worker actors."""
STATE_FILE = "ray-service.json"
LOCK_FILE = "ray-service.lock"
IDLE_FILE = "ray-service-idle.json"
GCS_TIMEOUT_S = 5.0

_joined: HeadState | None = None
"""The service this process connected to through :func:`resolve_address`."""


def idle_seconds() -> float:
    """``SEISPROC_SERVICE_IDLE_S`` or 600: how long the service waits without a driver."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if not raw:
        return DEFAULT_IDLE_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise SeisprocError(f"{IDLE_ENV} must be a number of seconds above 0; got {raw!r}")
    return seconds


def _state_path() -> Path:
    return seisproc_home() / STATE_FILE


def read_state() -> HeadState | None:
    """The recorded head, alive or not; ``None`` when none is recorded (or the record
    is unreadable)."""
    try:
        return HeadState.from_dict(json.loads(_state_path().read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(state: HeadState) -> None:
    path = _state_path()
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with os.fdopen(open_private(partial), "w") as stream:
        json.dump(state.to_dict(), stream)
    os.replace(partial, path)


def _remove_state(state: HeadState) -> None:
    """Remove the state file if it still records ``state``'s head."""
    recorded = read_state()
    if recorded is not None and recorded.pgid == state.pgid:
        with contextlib.suppress(FileNotFoundError):
            _state_path().unlink()
        with contextlib.suppress(FileNotFoundError):
            (seisproc_home() / IDLE_FILE).unlink()


@contextlib.contextmanager
def _start_lock(announce: Callable[[str], None] | None = None) -> Iterator[None]:
    """Exclusive across processes of this user and home, released at exit or death.
    Waiting for it means another process is starting the service: ``announce`` says so."""
    fd = open_private(seisproc_home() / LOCK_FILE, os.O_RDWR)
    try:
        if not _lock_within(fd, LOCK_CHECK_S):  # longer than a check: a start
            if announce is not None:
                announce(f"starting seisproc's local Ray (first run, or another command "
                         f"started it; it stays up {_minutes(idle_seconds())} when idle: "
                         "seisproc service stop ends it)")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


LOCK_CHECK_S = 0.5
"""How long another command may hold the start lock just to check the service."""


def _lock_within(fd: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _alive(state: HeadState) -> bool:
    return group_alive(state) and port_open(state)


def ensure_service(announce: Callable[[str], None] | None = None) -> HeadState:
    """The running service, started first if none runs (or the recorded one is dead).

    ``announce`` is told once, before a start, what is happening (the CLI prints it).
    """
    with _start_lock(announce):
        state = read_state()
        if state is not None and _alive(state) and not _outdated_and_idle(state):
            return state
        if state is not None:  # killed, port closed, or idle and of another version
            if group_alive(state):  # never a group whose leader is not our watchdog
                end_group(state.pgid)
            _remove_state(state)
        idle_s = idle_seconds()
        if announce is not None:
            announce(f"starting seisproc's local Ray (first run; it stays up "
                     f"{_minutes(idle_s)} when idle: seisproc service stop ends it)")
        state = start_head(seisproc_home(), idle_s, running_code())
        try:
            _write_state(state)
        except BaseException:
            end_group(state.pgid)
            _remove_state(state)
            raise
        return state


def _outdated_and_idle(state: HeadState) -> bool:
    """Whether the head was started by other code (another seisproc version, or this
    one before a source file changed) and nobody uses it: its warm actors, which run
    that code, hold the CPUs this code's actors need (a run would wait for them)."""
    if state.version == running_code():
        return False
    try:
        return not live_drivers(state)
    except Exception:  # a head that does not answer is replaced too
        return True


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def stop_service() -> bool:
    """End the service's process group and remove its state; False if none was running."""
    with _start_lock():
        state = read_state()
        if state is None:
            return False
        running = group_alive(state)
        if running:
            end_group(state.pgid)
        _remove_state(state)
        if Path(state.temp_dir).name.startswith("seisproc-"):  # Ray's sessions and logs
            shutil.rmtree(state.temp_dir, ignore_errors=True)
        return running


def resolve_address(address: str | None, announce: Callable[[str], None] | None = None,
                    ) -> str | None:
    """The Ray address a command should use: ``address``, else ``SEISPROC_RAY_ADDRESS``
    or ``RAY_ADDRESS``, else the service's (started if needed); ``None`` when this
    process is already connected to a Ray (its own, e.g. a notebook's or a test's).

    Joining the service needs its token: it is put in this process's environment, where
    ``ray.init`` reads it.
    """
    global _joined
    import ray

    chosen = address or os.environ.get("SEISPROC_RAY_ADDRESS") or os.environ.get("RAY_ADDRESS")
    if chosen:
        return chosen
    if ray.is_initialized():
        return None
    state = ensure_service(announce)
    use_token(state)
    _joined = state
    return state.address


def use_token(state: HeadState) -> None:
    """Make this process's Ray calls carry ``state``'s token.

    Ray reads ``RAY_AUTH_MODE`` and ``RAY_AUTH_TOKEN`` into its C++ config once, when
    ``ray`` is imported (here long before the service is known), so setting them is not
    enough: the config and the token cache are reloaded, as Ray's own tests do.
    """
    from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

    os.environ.update(state.env())
    os.environ.pop("RAY_AUTH_TOKEN_PATH", None)
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def on_service() -> bool:
    """Whether this process is connected to seisproc's local Ray service."""
    import ray

    return _joined is not None and ray.is_initialized()


# ---------------------------------------------------------------------- the GCS's view
def _gcs(state: HeadState) -> Any:
    from ray._raylet import GcsClient  # type: ignore[attr-defined]

    use_token(state)  # the client authenticates with the token
    return GcsClient(address=state.address)


_clients: dict[tuple[str, int], Any] = {}


def service_gcs(state: HeadState) -> Any:
    """A GCS client of the running service ``state`` records, kept for the next call (a
    monitor asks once a second)."""
    key = (state.address, state.pgid)
    client = _clients.get(key)
    if client is None:
        _clients.clear()  # a client of a service since stopped is of no use
        client = _clients[key] = _gcs(state)
    return client


def live_head() -> HeadState | None:
    """The service's recorded head if it runs now, else ``None``."""
    state = read_state()
    return state if state is not None and _alive(state) else None


def live_drivers(state: HeadState) -> list[int]:
    """Pids of the drivers connected to the head now (the GCS's live jobs)."""
    jobs = _gcs(state).get_all_job_info(skip_submission_job_info_field=True,
                                        skip_is_running_tasks_field=True,
                                        timeout=GCS_TIMEOUT_S)
    return sorted(int(job.driver_pid) for job in jobs.values() if not job.is_dead)


@dataclass(frozen=True)
class WarmWorker:
    """One warm worker actor of the service."""

    name: str
    actor_id: str
    pid: int
    state: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def warm_workers(state: HeadState) -> list[WarmWorker]:
    """The service's named worker actors in the ``seisproc`` namespace, alive or not."""
    client = _gcs(state)
    actors = asyncio.run(_actor_table(client))
    workers = [WarmWorker(a.name, a.actor_id.hex(), int(a.pid),
                          _ACTOR_STATES.get(int(a.state), str(a.state)))
               for a in actors.values() if a.ray_namespace == NAMESPACE and a.name]
    return sorted(workers, key=lambda w: (w.state != "ALIVE", w.name))


async def _actor_table(client: Any) -> Any:
    return await client.async_get_all_actor_info(timeout=GCS_TIMEOUT_S)


_ACTOR_STATES = {0: "DEPENDENCIES_UNREADY", 1: "PENDING_CREATION", 2: "ALIVE",
                 3: "RESTARTING", 4: "DEAD"}


@dataclass(frozen=True)
class ServiceStatus:
    """What ``seisproc service status`` shows."""

    running: bool
    address: str = ""
    pid: int = 0
    """The head's process group id (the pid of its ``ray start``)."""
    temp_dir: str = ""
    started_at: float = 0.0
    uptime_s: float = 0.0
    idle_s: float = 0.0
    """Configured idle time (seconds without a driver before it stops)."""
    idle_left_s: float | None = None
    """Seconds before it stops if no driver connects; ``None`` while one is connected."""
    drivers: list[int] = field(default_factory=list)
    """Pids of the connected seisproc (or other) drivers."""
    workers: list[WarmWorker] = field(default_factory=list)
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["workers"] = [w.to_dict() for w in self.workers]
        return data


def service_status() -> ServiceStatus:
    """The service as it is now; asks its GCS without joining as a driver, so asking
    does not keep it up."""
    state = read_state()
    if state is None or not _alive(state):
        return ServiceStatus(running=False)
    drivers = live_drivers(state)
    last_active = _last_active(state)
    idle_left = None if drivers else max(0.0, state.idle_s - (time.time() - last_active))
    return ServiceStatus(True, state.address, state.pgid, state.temp_dir, state.started_at,
                         time.time() - state.started_at, state.idle_s, idle_left, drivers,
                         warm_workers(state), state.version)


def _last_active(state: HeadState) -> float:
    """When the watchdog last saw a driver (the start, before its first look)."""
    try:
        data = json.loads((seisproc_home() / IDLE_FILE).read_text())
        if int(data["pgid"]) == state.pgid:
            return float(data["last_active"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return state.started_at
