"""Connecting to Ray: a quiet local instance by default, a shared cluster by address.

Starting Ray costs seconds (4-11 s cold here), so it is done once per process and never
undone by the executor: :func:`connect` is idempotent, and only
:func:`ray_shutdown_if_started` stops what :func:`connect` started. The environment
defaults below are set before ``ray.init`` because Ray reads them at process start (the
driver's core worker and, for a local start, the GCS and raylet it spawns); a value the
user already set always wins.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import platform
import socket
import threading
from collections.abc import Iterator
from typing import Any

import ray

__all__ = ["ENV_DEFAULTS", "connect", "cluster_cpus", "node_id", "ray_shutdown_if_started"]

ADDRESS_ENV = "SEISPROC_RAY_ADDRESS"

ENV_DEFAULTS: dict[str, str] = {
    # Without this Ray writes ~/.ray/auth_token on first start.
    "RAY_AUTH_MODE": "disabled",
    # The GCS keeps ~3.7 KB of events per task; a long-lived driver (the GUI) running many
    # jobs would grow without bound at the default of 100,000 tasks. 10,000 caps it near
    # 40 MB and keeps recent tasks visible to `ray list tasks`.
    "RAY_task_events_max_num_task_in_gcs": "10000",
    # A local, embedded instance: no usage-stats notice on start.
    "RAY_USAGE_STATS_ENABLED": "0",
}

_started_here = False
_connect_lock = threading.Lock()


def _apply_env_defaults() -> None:
    """Set each of :data:`ENV_DEFAULTS` that the user has not set."""
    for name, value in ENV_DEFAULTS.items():
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

    Notes
    -----
    Does nothing if Ray is already initialised (by this function or by the caller), so
    adapters can call it freely. Ray's own logs go to its session folder, not the terminal.
    """
    global _started_here
    with _connect_lock:  # two threads (GUI, scheduler) must not start two instances
        if ray.is_initialized():
            return
        _apply_env_defaults()
        address = address or os.environ.get(ADDRESS_ENV) or None
        joining = bool(address or os.environ.get("RAY_ADDRESS"))
        _init_on_a_lasting_thread(
            address=address,
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


def _init_on_a_lasting_thread(**options: Any) -> None:
    """``ray.init(**options)`` on this thread if it is the main one, else on a thread
    that lives as long as the process.

    A local start forks Ray's GCS, raylet and agents with ``PR_SET_PDEATHSIG``, which
    Linux fires when the *thread* that forked them ends, not the process: a local Ray
    started from a short-lived thread (the JobManager's scheduler, which creates its
    executor lazily) is SIGKILLed when that thread returns, and the next Ray call hangs 60 s
    then terminates the process. Measured here on Ray 2.60.
    """
    if threading.current_thread() is threading.main_thread():
        ray.init(**options)
        return
    started = threading.Event()
    failure: list[BaseException] = []

    def own_ray() -> None:
        try:
            with _QuietSigtermNotice.installed():
                ray.init(**options)
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)
        finally:
            started.set()
        if not failure:
            threading.Event().wait()  # never returns: Ray's processes live while this does

    threading.Thread(target=own_ray, name="seisproc-ray-owner", daemon=True).start()
    started.wait()
    if failure:
        raise failure[0]


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
    global _started_here
    with _connect_lock:
        if _started_here and ray.is_initialized():
            ray.shutdown()
        _started_here = False


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
