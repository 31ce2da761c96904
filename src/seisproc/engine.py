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

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from seisproc.history import JobHistoryStorage, ResourceSample
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent
from seisproc.jobs.manager import JobManager, JobNotFound
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import owner_alive
from seisproc.jobs.panels import ParameterTest, check_panels
from seisproc.jobs.ports import Executor, JobStore
from seisproc.jobs.qc_files import QC_FOLDER, QcFiles, QcRecorder
from seisproc.jobs.transitions import IllegalTransition, transition
from seisproc.paths import seisproc_home
from seisproc.processing.flow import Flow
from seisproc.processing.variants import parse_variation, varied_flows

if TYPE_CHECKING:  # scripts that only run flows import no resource monitoring
    from seisproc.jobs.velan import VelanRequest, VelanResult
    from seisproc.monitoring import ResourceSnapshot

__all__ = ["JobControlRequests", "open_store", "open_manager", "resource_recorder",
           "run_provenance",
           "run_flow", "parameter_panels", "velocity_analysis"]


def open_store(database_url: str | None = None) -> JobHistoryStorage:
    """The job history: ``database_url``, ``SEISPROC_DATABASE_URL`` or SQLite in the home."""
    return JobHistoryStorage(database_url)


def open_manager(*, database_url: str | None = None, address: str | None = None,
                 workers: int | None = None, max_running: int = 4) -> JobManager:
    """A JobManager on the default adapters. Ray is joined on first use.

    Ray is the one at ``address`` (or ``SEISPROC_RAY_ADDRESS``, ``RAY_ADDRESS``); the one
    this process already joined; else seisproc's local Ray service, started on first use
    and kept up while idle for ``SEISPROC_SERVICE_IDLE_S`` (600 s), with warm workers
    (:mod:`seisproc.orchestration.service`). It never joins a Ray found through
    ``/tmp/ray`` (a user's own, or a dead one's files).

    Units run on CPU workers, and on GPU workers when the cluster has GPUs (CUDA, or
    Apple's Metal): a flow's ``device`` picks (``auto``: a GPU if there is one). A flow
    with ``device: gpu`` is checked against the cluster at submission, so a cluster
    without a GPU refuses it at once with a :class:`~seisproc.processing.device.
    DeviceError`; ``workers`` sizes the CPU pool.
    """

    def ray_executor() -> Executor:
        from seisproc.orchestration import device_executor  # Ray loads only when a job runs

        return device_executor(address=_ray_address(address), workers=workers)

    def validate_flow(flow: Flow) -> None:
        if flow.device == "gpu":  # only a GPU request needs the cluster before it runs
            from seisproc.orchestration import check_device

            check_device(flow, _ray_address(address))

    manager = JobManager(open_store(database_url), ray_executor,
                         CheckpointStore(seisproc_home() / "checkpoints"),
                         max_running=max_running, validate_flow=validate_flow,
                         provenance=lambda flow: run_provenance(flow, address))
    # QC lives in the running process; the window shows every process's jobs' QC
    manager.subscribe(QcRecorder(manager.qc, QcFiles(seisproc_home() / QC_FOLDER)))
    return manager


def run_provenance(flow: Flow, address: str | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a job of ``flow`` records at submission to be reproducible (versions, the
    device with this host's GPUs, the input's identity): the same for ``seisproc run``,
    the desktop application, ``seisproc demo`` and scripts."""
    from seisproc.monitoring.gpu import NvmlGpus
    from seisproc.production import record_provenance
    from seisproc.production.provenance import device_record

    gpus = NvmlGpus()
    try:
        names = [gpu.name for gpu in gpus.read()]
    finally:
        gpus.close()
    cluster = address or os.environ.get("SEISPROC_RAY_ADDRESS") or os.environ.get("RAY_ADDRESS")
    return record_provenance(flow, device=device_record(flow, names, cluster), extra=extra)


def _ray_address(address: str | None) -> str | None:
    """``address``, or the one the environment names, or the local service's (started
    and announced on stderr if needed); ``None`` when this process is already on a Ray."""
    from seisproc.orchestration.service import resolve_address

    return resolve_address(address, announce=_tell_stderr)


def _tell_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def parameter_panels(flow: Flow, vary: str, key_values: Sequence[int], *,
                address: str | None = None,
                on_done: Callable[[int, int], None] | None = None) -> ParameterTest:
    """Run ``flow`` once per value of one parameter (``vary``, e.g.
    ``"agc.window_ms=250,500,1000"``) on the gathers with these ``gather_by`` values, on
    the cluster as :func:`open_manager` finds it; nothing is written.

    Everything is checked before any work: the parameter against the flow, each value
    against its processor and the data, each gather against the input.
    """
    from seisproc.orchestration.panels import run_panels  # Ray loads only when it runs

    variation = parse_variation(vary, flow)
    flows = varied_flows(flow, variation)
    check_panels(flows, key_values)
    columns = run_panels(flows, key_values, address=_ray_address(address), on_done=on_done)
    return ParameterTest(flow, variation, list(key_values), columns)


def velocity_analysis(request: VelanRequest, cdps: Sequence[int], *,
                      address: str | None = None,
                      on_done: Callable[[int, int], None] | None = None) -> VelanResult:
    """Semblance panels (and picks, with ``request.auto``) at these CDPs, one cluster
    task per location, on the cluster as :func:`open_manager` finds it.

    Everything is checked before any work: the scan, the window, the file's CDP numbers
    and each CDP against the survey's range.
    """
    from seisproc.jobs.velan import VelanResult, check_velan
    from seisproc.orchestration.velan import run_velan  # Ray loads only when it runs

    check_velan(request, cdps)
    locations = run_velan(request, cdps, address=_ray_address(address), on_done=on_done)
    return VelanResult(request, locations[0].times_ms, request.velocities_m_s, locations)


def resource_recorder(store: JobHistoryStorage) -> Callable[[ResourceSnapshot], None]:
    """The ``sink`` of a :class:`~seisproc.monitoring.ResourceMonitor` that keeps its
    downsampled snapshots (one a minute by default) as the history's resource samples,
    which the analytics' "resource utilisation over time" chart reads.

    >>> store = open_store()                                           # doctest: +SKIP
    >>> monitor = ResourceMonitor(sink=resource_recorder(store)).start()  # doctest: +SKIP
    """

    def record(snapshot: ResourceSnapshot) -> None:
        store.save_resource_samples([ResourceSample.from_snapshot(snapshot)])

    return record


class JobControlRequests:
    """Pause and cancel for a process that runs no job (``seisproc monitor``): the
    :class:`~seisproc.alerts.actions.JobControl` of its ``pause_job`` and ``cancel_job``
    alert actions.

    Each call records a control request in the job history, as ``seisproc pause`` and
    ``seisproc cancel`` do from another terminal; the JobManager running the job takes it
    within a fraction of a second. A request no process would take is refused instead,
    with a :class:`~seisproc.errors.SeisprocError` saying why (the alert action logs it):
    an unknown job, one that cannot make the move (finished, already paused), one whose
    process has gone. The request carries the message, and the owner writes it on the
    job (``paused by alert qc_non_finite: …``).

    >>> alerts = open_alert_manager(jobs=JobControlRequests(open_store()))  # doctest: +SKIP
    """

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def pause(self, job_id: str, message: str = "") -> Job:
        """Ask the job's process to pause it; returns the job as it was when asked.

        The owner writes ``message`` on the job, or its default ("paused by user") when
        it is empty.
        """
        return self._request(job_id, "pause", JobState.PAUSED, message)

    def cancel(self, job_id: str, message: str = "") -> Job:
        """Ask the job's process to cancel it; returns the job as it was when asked.

        The owner writes ``message`` on the job, or its default ("cancelled by user")
        when it is empty.
        """
        return self._request(job_id, "cancel", JobState.CANCELLING, message)

    def _request(self, job_id: str, action: str, to: JobState, message: str) -> Job:
        job = self.store.get_job(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r} in the history")
        transition(job, to)  # raises IllegalTransition where the owner would refuse
        if not job.state.is_active() or not owner_alive(job, self.store):
            raise IllegalTransition(
                f"job {job.id} is {job.state.value} but the process that ran it "
                f"({job.owner or 'none'}) has stopped, so no process would take the "
                f"{action} request")
        self.store.request_control(job.id, action, message)
        return job
