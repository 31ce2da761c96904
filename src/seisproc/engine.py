"""The default engine, wired: job history database + Ray workers + checkpoints.

This is the composition root for scripts, notebooks and the CLI: the one place outside
the GUI that chooses the adapters. Everything it picks can be redirected without code
changes: ``SEISPROC_HOME`` moves the history and checkpoints, ``SEISPROC_DATABASE_URL``
points at PostgreSQL, ``SEISPROC_RAY_ADDRESS`` (or ``address=``) at a Ray cluster.

>>> import seisproc
>>> job = seisproc.run_flow(seisproc.load_flow("flow.yaml"))   # doctest: +SKIP
>>> job.state
<JobState.COMPLETED: 'COMPLETED'>
"""

from __future__ import annotations

from collections.abc import Callable

from seisproc.history import JobHistoryStorage
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job
from seisproc.jobs.ports import Executor
from seisproc.paths import seisproc_home
from seisproc.processing.flow import Flow

__all__ = ["open_store", "open_manager", "run_flow"]


def open_store(database_url: str | None = None) -> JobHistoryStorage:
    """The job history: ``database_url``, ``SEISPROC_DATABASE_URL`` or SQLite in the home."""
    return JobHistoryStorage(database_url)


def open_manager(*, database_url: str | None = None, address: str | None = None,
                 workers: int | None = None, max_running: int = 4) -> JobManager:
    """A JobManager on the default adapters. Ray starts (or is joined) on first use.

    Units run on CPU workers, and on GPU workers when the cluster has GPUs (CUDA, or
    Apple's Metal): a flow's ``device`` picks (``auto``: a GPU if there is one). A flow
    with ``device: gpu`` is checked against the cluster at submission, so a cluster
    without a GPU refuses it at once with a :class:`~seisproc.processing.device.
    DeviceError`; ``workers`` sizes the CPU pool.
    """

    def ray_executor() -> Executor:
        from seisproc.orchestration import device_executor  # Ray loads only when a job runs

        return device_executor(address=address, workers=workers)

    def validate_flow(flow: Flow) -> None:
        if flow.device == "gpu":  # only a GPU request needs the cluster before it runs
            from seisproc.orchestration import check_device

            check_device(flow, address)

    return JobManager(open_store(database_url), ray_executor,
                      CheckpointStore(seisproc_home() / "checkpoints"),
                      max_running=max_running, validate_flow=validate_flow)


def run_flow(flow: Flow, *, overwrite: bool = False, address: str | None = None,
             on_event: Callable[[JobEvent], None] | None = None,
             manager: JobManager | None = None) -> Job:
    """Run ``flow`` as a job to its end and return the finished job.

    Uses ``manager`` if given (keeping its workers warm for the next call), otherwise
    opens the default engine for this call and closes it afterwards.
    """
    own = manager is None
    manager = manager or open_manager(address=address)
    unsubscribe = manager.subscribe(on_event) if on_event else None
    try:
        job = manager.submit(flow, overwrite=overwrite)
        return manager.wait(job.id)
    finally:
        if unsubscribe:
            unsubscribe()
        if own:
            manager.close(active="cancel")
