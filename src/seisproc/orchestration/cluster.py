"""Connecting to Ray: a quiet local instance by default, a shared cluster by address.

Starting Ray costs seconds (4-11 s cold here), so it is done once per process and never
undone by the executor: :func:`connect` is idempotent, and only
:func:`ray_shutdown_if_started` stops what :func:`connect` started. The environment
defaults below are set before ``ray.init`` because Ray reads them at process start (the
driver's core worker and, for a local start, the GCS and raylet it spawns); a value the
user already set always wins.

Joining a cluster is bounded in time. Given an address where no cluster answers, Ray 2.60
retries for about 14 minutes (20 rounds of a 5 s connect and a 30 s wait), printing
``Failed to connect to GCS`` each time. So :func:`connect` first opens a plain TCP
connection to the cluster's port (nothing listening: refused at once), and then gives
``ray.init`` until ``SEISPROC_RAY_CONNECT_TIMEOUT_S`` (20 s by default) runs out; either
failure is a :class:`ClusterUnreachable` that names the address and what to do.

Joining leaves Ray's token authentication to the user: ``RAY_AUTH_MODE``,
``RAY_AUTH_TOKEN`` and ``RAY_AUTH_TOKEN_PATH`` are used as they are set (only a new local
instance gets ``RAY_AUTH_MODE=disabled`` by default). A head that refuses this process's
token, or its lack of one, is told apart before ``ray.init`` (which would retry for the
whole timeout, a warning a second) and reported as :class:`ClusterAuthRefused`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import platform
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import ray

from seisproc.errors import SeisprocError
from seisproc.orchestration.ray_auth import AUTH_ENV, AUTH_PROBE_S, token_refusal

__all__ = [
    "CONNECT_TIMEOUT_ENV",
    "ENV_DEFAULTS",
    "ClusterAuthRefused",
    "ClusterUnreachable",
    "connect",
    "connect_timeout_s",
    "cluster_cpus",
    "node_id",
    "ray_shutdown_if_started",
]

ADDRESS_ENV = "SEISPROC_RAY_ADDRESS"
CONNECT_TIMEOUT_ENV = "SEISPROC_RAY_CONNECT_TIMEOUT_S"
DEFAULT_CONNECT_TIMEOUT_S = 20.0
"""Joining a running cluster takes 0.05 s here, a Ray client (``ray://``) a few seconds."""
RAY_CLIENT_PORT = 10001

ENV_DEFAULTS: dict[str, str] = {
    # A new local instance only (see _apply_env_defaults): without this Ray writes
    # ~/.ray/auth_token on first start.
    "RAY_AUTH_MODE": "disabled",
    # The GCS keeps ~3.7 KB of events per task; a long-lived driver (the GUI) running many
    # jobs would grow without bound at the default of 100,000 tasks. 10,000 caps it near
    # 40 MB and keeps recent tasks visible to `ray list tasks`.
    "RAY_task_events_max_num_task_in_gcs": "10000",
    # A local, embedded instance: no usage-stats notice on start.
    "RAY_USAGE_STATS_ENABLED": "0",
}

_started_here = False
_instance_here = False
"""Whether :func:`connect` started a new local instance (not joined a running one)."""
_connect_lock = threading.Lock()
_stalled: _Attempt | None = None
"""A ``ray.init`` that :func:`connect` stopped waiting for; the next join waits for it."""


class ClusterUnreachable(SeisprocError):
    """No Ray cluster answers at the address given (``--address``, ``SEISPROC_RAY_ADDRESS``
    or ``RAY_ADDRESS``)."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(
            f"cannot reach a Ray cluster at {address} ({reason}); start one there with "
            "'ray start --head', check the host and port, or leave out --address and "
            "SEISPROC_RAY_ADDRESS to run on a local Ray")
        self.address = address
        self.reason = reason

    def __reduce__(self) -> tuple[type[ClusterUnreachable], tuple[str, str]]:
        return type(self), (self.address, self.reason)  # pickles (copies) like its peers


class ClusterAuthRefused(ClusterUnreachable):
    """The Ray cluster at the address runs Ray's token authentication and refuses this
    process: it has no token, or not the cluster's. The message never holds a token."""

    def __init__(self, address: str, reason: str) -> None:
        SeisprocError.__init__(self, f"the cluster at {address} requires a Ray auth token: "
                                     f"{reason}")
        self.address = address
        self.reason = reason


def _apply_env_defaults(joining: bool) -> None:
    """Set each of :data:`ENV_DEFAULTS` that the user has not set; joining a cluster,
    leave Ray's token settings (:data:`AUTH_ENV`) to the user and to Ray's defaults."""
    for name, value in ENV_DEFAULTS.items():
        if not (joining and name in AUTH_ENV):
            os.environ.setdefault(name, value)


def connect(address: str | None = None, *, num_cpus: int | None = None) -> None:
    """Make sure this process is connected to a Ray cluster.

    Parameters
    ----------
    address
        ``"auto"``, ``"ray://host:10001"`` or ``"host:6379"``; falls back to the
        ``SEISPROC_RAY_ADDRESS`` environment variable, then to a new local instance.
    num_cpus
        CPUs of a new local instance (all of this machine's when ``None``); ignored
        when connecting to a running cluster, whose nodes declare their own.

    Raises
    ------
    ClusterUnreachable
        Nothing answers at the address, or Ray did not join the cluster within
        ``SEISPROC_RAY_CONNECT_TIMEOUT_S`` seconds (see :func:`connect_timeout_s`).
    ClusterAuthRefused
        The cluster requires a Ray auth token that this process does not have
        (``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN``); a :class:`ClusterUnreachable`.

    Notes
    -----
    Does nothing if Ray is already initialised (by this function or by the caller), so
    adapters can call it freely. Ray's own logs go to its session folder, not the terminal.

    >>> connect("127.0.0.1:1")                         # doctest: +SKIP
    Traceback (most recent call last):
    ClusterUnreachable: cannot reach a Ray cluster at 127.0.0.1:1 (nothing listens on ...
    """
    global _started_here, _instance_here
    with _connect_lock:  # two threads (GUI, scheduler) must not start two instances
        address = address or os.environ.get(ADDRESS_ENV) or None
        target = address or os.environ.get("RAY_ADDRESS") or None
        _wait_for_a_stalled_join()
        if ray.is_initialized():
            return
        joining = target is not None
        new_instance = target in (None, "local")  # "local": a new instance too
        _apply_env_defaults(joining=not new_instance)
        deadline = None if target is None else _join_deadline(target)
        _init_on_a_lasting_thread(
            deadline, target,
            # "local": a new instance, never one found through /tmp/ray (a user's Ray,
            # or a dead one's stale ray_current_cluster, on which ray.init hangs).
            address=address if joining else "local",
            # A running cluster (ours by address or Ray's RAY_ADDRESS) refuses num_cpus
            # and resources: its nodes declare their own.
            num_cpus=None if joining else num_cpus,
            resources=None if joining else local_resources(),
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
            configure_logging=True,
            ignore_reinit_error=True,
        )
        _started_here = True
        _instance_here = new_instance


def local_resources() -> dict[str, float] | None:
    """Custom resources of a local start: ``{"metal": 1}`` on Apple silicon with MPS.

    Ray detects CUDA GPUs itself (``num_gpus``) but knows nothing of Apple's GPU, so a Mac
    declares it as a custom resource that :class:`~seisproc.orchestration.gpu.
    MetalWorkerActor` asks for. torch is imported (about a second) only on Apple silicon,
    and only to ask whether MPS works. Nodes of a multi-node cluster declare it with
    ``ray start --resources='{"metal": 1}'``.
    """
    if platform.system() != "Darwin" or platform.machine() != "arm64":
        return None
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    return {"metal": 1.0} if torch.backends.mps.is_available() else None


def connect_timeout_s() -> float:
    """Seconds :func:`connect` waits for a cluster to answer: ``SEISPROC_RAY_CONNECT_TIMEOUT_S``
    or 20. Raise it for a cluster across a slow network or one still starting."""
    raw = os.environ.get(CONNECT_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_CONNECT_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise SeisprocError(f"{CONNECT_TIMEOUT_ENV} must be a number of seconds above 0; "
                            f"got {raw!r}")
    return seconds


def _join_deadline(target: str) -> float | None:
    """When ``ray.init`` must have joined the cluster at ``target``, after checking with a
    TCP connection that its port answers; ``None`` for ``"local"`` (a new local instance,
    whose cold start takes what it takes).

    Raises :class:`ClusterUnreachable` saying why the port does not answer (refused,
    silent, unknown host), and :class:`ClusterAuthRefused` when a Ray head there refuses
    this process's token (see :func:`~seisproc.orchestration.ray_auth.token_refusal`).
    """
    host, port = _endpoint(target)
    if host is None:
        return None
    timeout_s = connect_timeout_s()
    deadline = time.monotonic() + timeout_s
    where = f"{host}:{port}"
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except ConnectionRefusedError:
        raise ClusterUnreachable(target, f"nothing listens on {where}") from None
    except TimeoutError:
        raise ClusterUnreachable(target, f"{where} did not answer within {timeout_s:g} s; "
                                 f"raise {CONNECT_TIMEOUT_ENV} for a slow network") from None
    except socket.gaierror:
        raise ClusterUnreachable(target, f"unknown host {host}") from None
    except OSError as exc:
        raise ClusterUnreachable(target, f"{where}: {exc.strerror or exc}") from None
    if not target.startswith("ray://"):  # a Ray client server: Ray's client says why
        wait_s = min(AUTH_PROBE_S, max(deadline - time.monotonic(), 0.0) / 2)
        refusal = token_refusal(host, port, wait_s)
        if refusal is not None:
            raise ClusterAuthRefused(where if target == "auto" else target, refusal)
    return deadline


def _endpoint(target: str) -> tuple[str | None, int]:
    """The host and port ``ray.init(address=target)`` connects to; ``(None, 0)`` for a
    new local instance.

    Ray's own resolution is used for GCS addresses, so the probe goes where Ray goes:
    ``auto`` is the cluster last started on this machine, and ``localhost`` /
    ``127.0.0.1`` become this node's IP address (a head listens there).
    """
    from ray._private.services import canonicalize_bootstrap_address

    if target.startswith("ray://"):
        url = urlsplit(target)
        try:
            port = url.port or RAY_CLIENT_PORT
        except ValueError:  # not a number
            port = 0
        host = url.hostname or ""
    else:
        try:
            canonical = canonicalize_bootstrap_address(target)
        except ConnectionError:  # "auto", and no cluster was started here
            raise ClusterUnreachable(target, "no Ray cluster was started on this "
                                     "machine") from None
        except ValueError:  # no port
            canonical = ""
        if canonical is None:
            return None, 0
        host, _, digits = canonical.rpartition(":")
        host, port = host.strip("[]"), int(digits) if digits.isdigit() else 0
    if not host or not port:
        raise ClusterUnreachable(target, "not an address: give 'auto', 'host:port' or "
                                 "'ray://host:port'")
    return host, port


def _init_on_a_lasting_thread(deadline: float | None, target: str | None,
                              **options: Any) -> None:
    """``ray.init(**options)`` on this thread if it is the main one and no ``deadline``
    bounds it, else on a thread that lives as long as the process.

    A local start forks Ray's GCS, raylet and agents with ``PR_SET_PDEATHSIG``, which
    Linux fires when the *thread* that forked them ends, not the process: a local Ray
    started from a short-lived thread (the JobManager's scheduler, which creates its
    executor lazily) is SIGKILLed when that thread returns, and the next Ray call hangs 60 s
    then terminates the process. Measured here on Ray 2.60.

    A join to ``target`` not done by ``deadline`` raises :class:`ClusterUnreachable`; its
    ``ray.init`` is left to finish (it cannot be interrupted) and undone if it succeeds.
    """
    global _stalled
    if deadline is None and threading.current_thread() is threading.main_thread():
        ray.init(**options)
        return
    attempt = _Attempt(lambda: ray.init(**options), target or "a local Ray")
    if deadline is None:
        attempt.wait(None)
        return
    if not attempt.wait(max(deadline - time.monotonic(), 0.0)):
        _stalled = attempt
        raise ClusterUnreachable(attempt.target, (
            f"its port is open but Ray did not join it within {connect_timeout_s():g} s: "
            f"is a Ray head of this version there? raise {CONNECT_TIMEOUT_ENV} if it is busy"))


def _wait_for_a_stalled_join() -> None:
    """Let an abandoned ``ray.init`` end before anything else touches Ray: Ray does not
    support two ``ray.init`` at once in one process."""
    global _stalled
    if _stalled is None:
        return
    if not _stalled.ended(connect_timeout_s()):
        raise ClusterUnreachable(_stalled.target, "an earlier attempt to join it is still "
                                 "waiting for an answer; try again in a few minutes")
    _stalled = None


class _Attempt:
    """One ``ray.init`` on its own thread, which the caller may stop waiting for.

    On success the thread stays (a local Ray's processes live as long as it does), unless
    the caller gave up meanwhile: then it disconnects, since nobody uses the connection.
    """

    def __init__(self, init: Callable[[], object], target: str) -> None:
        self._init = init
        self.target = target
        """The address joined, for messages."""
        self._decided = threading.Lock()
        self._done = threading.Event()
        self._gone = threading.Event()
        self._abandoned = False
        self._error: BaseException | None = None
        threading.Thread(target=self._own_ray, name="seisproc-ray-owner", daemon=True).start()

    def wait(self, timeout_s: float | None) -> bool:
        """True once Ray is initialised; False (abandoned) after ``timeout_s``; raises
        what ``ray.init`` raised."""
        self._done.wait(timeout_s)
        with self._decided:
            if not self._done.is_set():
                self._abandoned = True
                return False
        if self._error is not None:
            raise self._error
        return True

    def ended(self, timeout_s: float | None) -> bool:
        """Whether the abandoned ``ray.init`` has returned and been undone."""
        return self._gone.wait(timeout_s)

    def _own_ray(self) -> None:
        try:
            with _QuietSigtermNotice.installed():
                self._init()
        except BaseException as exc:  # handed to the caller by wait()
            self._error = exc
        with self._decided:
            self._done.set()
            late = self._abandoned
        if late and self._error is None:
            with contextlib.suppress(Exception):
                ray.shutdown()
        self._gone.set()
        if self._error is None and not late:
            threading.Event().wait()  # never returns: Ray's processes live while this does


class _QuietSigtermNotice(logging.Filter):
    """Drop Ray's warning that it set no SIGTERM handler off the main thread: expected
    here, and a CLI user cannot act on it."""

    LOGGER = "ray._private.worker"

    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()

    @classmethod
    @contextlib.contextmanager
    def installed(cls) -> Iterator[None]:
        quiet, logger = cls(), logging.getLogger(cls.LOGGER)
        logger.addFilter(quiet)
        try:
            yield
        finally:
            logger.removeFilter(quiet)


def ray_shutdown_if_started() -> None:
    """Disconnect from Ray (stopping a local instance) if :func:`connect` connected.

    A connection the caller made itself is left alone: whoever called ``ray.init``
    decides when it ends.
    """
    global _started_here, _instance_here
    with _connect_lock:
        if _started_here and ray.is_initialized():
            ray.shutdown()
        _started_here = _instance_here = False


def stop_own_instance() -> None:
    """Before a process leaves without Python's exit handlers: shut down a local Ray
    instance that :func:`connect` started here, whose processes would otherwise outlive
    it. A joined cluster needs nothing: its GCS sees a driver go as it sees one killed."""
    if _instance_here:
        ray_shutdown_if_started()


def cluster_cpus() -> int:
    """CPUs of the whole cluster (at least 1): the default size of a worker pool."""
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return max(1, int(resources.get("CPU", 1)))


def node_id() -> str:
    """The Ray node id of this process, or the host name outside Ray.

    The node id, not the host name, because several nodes may share a host (a test
    cluster, containers) and because it is the key of ``ray.nodes()``.
    """
    if ray.is_initialized():
        return str(ray.get_runtime_context().get_node_id())
    return socket.gethostname()
