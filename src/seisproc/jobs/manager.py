"""The JobManager: the engine's public face, and the single source of truth about jobs.

Every method may be called from any thread, and none waits for the database. A request
(``pause``, ``resume``, ``cancel``) is posted to the :class:`~seisproc.jobs.scheduler.
Scheduler`, the one thread that owns jobs and their runs, and answered as soon as it is
decided (within a scheduler turn, ~50 ms at worst); records reach the history and events
reach subscribers through the :class:`~seisproc.jobs.history_writer.HistoryWriter`, in
order and only once saved. ``get`` answers from memory for this process's jobs.

Around them: a :class:`~seisproc.jobs.lease.LeaseKeeper` renews this process's ownership
of its jobs in the history (a lease with a fencing token, judged by the database's
clock), and a control thread takes the requests other terminals leave in the history.
See ``docs/architecture.md`` for the design and the figures behind it.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from seisproc.errors import SeisprocError
from seisproc.io.claim import OutputClaim, claim_output, claim_path
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.claims import OutputClaimer
from seisproc.jobs.decisions import Event
from seisproc.jobs.events import EventBus, JobEvent, JobEventKind, Subscriber
from seisproc.jobs.history_writer import HistoryWriter, RetryPolicy
from seisproc.jobs.lease import LeaseKeeper
from seisproc.jobs.model import Job, JobError, JobState, JobType, new_job_id
from seisproc.jobs.owner import LEASE_RENEW_S, LEASE_TTL_S, owner_alive, this_owner
from seisproc.jobs.plan import (
    DEFAULT_GATHERS_PER_UNIT,
    check_output_folder,
    check_output_path,
)
from seisproc.jobs.ports import Executor, JobStore
from seisproc.jobs.qc import JobQc
from seisproc.jobs.recovery import adopt, recover_orphans
from seisproc.jobs.scheduler import Outcome, Request, Scheduler
from seisproc.jobs.starting import check_resumable
from seisproc.jobs.transitions import IllegalTransition
from seisproc.processing.flow import Flow

__all__ = ["JobManager", "JobNotFound"]

log = logging.getLogger(__name__)
S = JobState
DRAIN_S = 10.0
"""How long ``close`` lets in-flight units land, commits and cancellations finish."""


class JobNotFound(SeisprocError):
    """No job with that id (or id prefix) in the history."""


class JobManager:
    """Runs jobs on an executor, records them in a store; see the module docstring.

    >>> manager = JobManager(store, executor_factory, checkpoints)   # doctest: +SKIP
    >>> job = manager.submit(load_flow("flow.yaml"))                  # doctest: +SKIP
    >>> manager.wait(job.id).state                                    # doctest: +SKIP
    <JobState.COMPLETED: 'COMPLETED'>

    Parameters
    ----------
    store_retry_s
        How long a failing history is retried before the job it records fails.
    lease_ttl_s, lease_renew_s
        This process's hold on its jobs: another process may take a job over once its
        lease has not been renewed for ``lease_ttl_s`` (by the database's clock).
    """

    def __init__(self, store: JobStore, executor_factory: Callable[[], Executor],
                 checkpoints: CheckpointStore, *, max_running: int = 4,
                 gathers_per_unit: int = DEFAULT_GATHERS_PER_UNIT,
                 control_poll_s: float = 0.25,
                 validate_flow: Callable[[Flow], None] | None = None,
                 provenance: Callable[[Flow], Mapping[str, Any]] | None = None,
                 store_retry_s: float = 60.0, lease_ttl_s: float = LEASE_TTL_S,
                 lease_renew_s: float = LEASE_RENEW_S) -> None:
        _freeze_what_is_loaded()
        self.store = store
        self.checkpoints = checkpoints
        self.max_running = max_running
        self.gathers_per_unit = gathers_per_unit
        self.owner = this_owner()
        self.lease_ttl_s = lease_ttl_s
        self._validate_flow = validate_flow
        self._provenance = provenance
        self._events = EventBus()
        self._writer = HistoryWriter(store, self._events,
                                     retry=RetryPolicy(retry_s=store_retry_s),
                                     on_failure=self._store_failed, on_stale=self._stale)
        self._leases = LeaseKeeper(store, renew_s=lease_renew_s, ttl_s=lease_ttl_s,
                                   on_lost=self._leases_lost)
        self._scheduler = Scheduler(
            executor_factory=executor_factory, checkpoints=checkpoints, writer=self._writer,
            max_running=max_running, gathers_per_unit=gathers_per_unit,
            hold_lease=lambda job: self._leases.hold(job.id, job.lease),
            drop_lease=self._leases.drop)
        self._claims = OutputClaimer(self._claim_is_stale, refused=self._claim_refused,
                                     ended=self._ended)
        self._control_poll_s = control_poll_s
        self._lock = threading.Lock()  # guards starting the threads; never held for I/O
        self._started = False
        self._closed = threading.Event()
        self.recover()

    # ------------------------------------------------------------------ public API
    @property
    def executor(self) -> Executor | None:
        """The worker pool once the first job has started it (``None`` before)."""
        return self._scheduler.executor

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every :class:`JobEvent`, after it is saved, on the history thread; a
        subscriber must not block (the GUI re-queues onto its own thread)."""
        return self._events.subscribe(subscriber)

    def submit(self, flow: Flow, *, name: str | None = None, priority: int = 0,
               job_type: JobType = JobType.PROCESSING, tags: Sequence[str] = (),
               overwrite: bool = False, batch: str = "",
               provenance: Mapping[str, Any] | None = None,
               after: Sequence[str] = ()) -> Job:
        """Queue ``flow`` as a job and return at once (QUEUED; saved in the background).

        ``batch`` groups jobs submitted together; ``provenance`` is what makes the run
        reproducible (:func:`seisproc.production.provenance.record_provenance`), kept
        with the job as given; without it, the manager's own ``provenance`` function
        records it (the default engine's does: every way of submitting records one).
        With ``after`` (job ids) the job is WAITING, holding no slot, until those jobs
        ended well (:mod:`seisproc.jobs.dependencies`).

        Refused, with nothing recorded, by a :class:`SeisprocError` when the output may
        not be written, another job holds its claim (in any process, on any host that
        shares the folder), or the injected ``validate_flow`` refuses the flow. The claim
        file itself is created just after, off the caller's thread (creating a file waits
        for a busy disk's journal): a claim another process took in that instant fails
        the job instead, with the same message (:mod:`seisproc.jobs.claims`).
        """
        check_output_path(flow, overwrite)
        check_output_folder(flow.output)
        if self._validate_flow is not None:
            self._validate_flow(flow)
        job = Job(id=new_job_id(), name=name or flow.name, type=job_type, priority=priority,
                  flow=flow.to_mapping(), input=str(flow.input), output=str(flow.output),
                  owner=self.owner, tags=tuple(tags), overwrite=overwrite, batch=batch,
                  provenance=dict(provenance if provenance is not None else
                                  self._provenance(flow) if self._provenance else {}),
                  waits_for=tuple(after),
                  state=S.WAITING if after else S.QUEUED,
                  message=(f"waiting for {len(after)} job(s)" if after else "queued")
                  + f"; the output is claimed ({claim_path(flow.output).name})")
        self._start()
        self._claims.take(job)  # refused here, or promised: nothing is written yet
        self._writer.save(job, JobEvent(JobEventKind.SUBMITTED, job))
        self._scheduler.submit(job)  # no wait: submit() costs its caller ~0.1 ms
        self._claims.create(job)  # once the scheduler knows the job: a refusal fails it
        return job

    def pause(self, job_id: str, message: str = "") -> Job:
        """Stop dispatching the job's units and free its running slot; in-flight units
        finish and are kept."""
        self._owned(job_id)
        return self._ask(Event.PAUSE, job_id, message or "paused by user")

    def resume(self, job_id: str, *, restart: bool = False) -> Job:
        """Continue a paused job, or re-queue an interrupted one from its checkpoint.

        Refused (:class:`~seisproc.jobs.starting.CheckpointMismatch`) when the input
        changed since the checkpoint was written; ``restart=True`` discards the
        checkpoint and the partial output and starts over.
        """
        job = self._latest(job_id) or self._adopt(job_id)
        if job.state is S.FAILED:  # run again from the start: its output is free again
            check_output_path(Flow.from_mapping(job.flow), job.overwrite)
            claim_output(Path(job.output), job.id, self.owner, stale=self._claim_is_stale)
            restart = True
        elif not restart and job.state in (S.PAUSED, S.INTERRUPTED):
            check_resumable(job, self.checkpoints)
        note = ("resumed; waiting for the jobs it waits for" if job.state is S.WAITING
                else "resumed; waiting for a slot")
        resumed: Job = self._scheduler.ask(Request(Event.RESUME, job.id, note,
                                                   restart=restart))
        return resumed

    def cancel(self, job_id: str, message: str = "") -> Job:
        """Stop the job: in-flight units are dropped, its partial output is removed."""
        job = self._scheduler.jobs.get(job_id) or self._adopt(job_id)
        return self._ask(Event.CANCEL, job.id, message or "cancelled by user")

    def cancel_all(self) -> builtins.list[Job]:
        """Cancel every active job this manager owns (those finishing are left to finish)."""
        cancelled = []
        for job_id in self._scheduler.active():
            with contextlib.suppress(IllegalTransition):
                cancelled.append(self.cancel(job_id))
        return cancelled

    def get(self, job_id: str) -> Job:
        """The job: from memory if this process runs it (never waiting for the
        database), else from the history."""
        job = self._latest(job_id)
        if job is not None:
            return job
        job = self.store.get_job(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r} in the history")
        return job

    def qc(self, job_id: str) -> JobQc:
        """The quality figures of a job run by this manager so far (empty for others).

        Kept in memory only, for the running jobs and the last finished ones.
        """
        return self._scheduler.qc.get(job_id, JobQc())

    def list(self, states: Sequence[JobState] | None = None) -> builtins.list[Job]:
        """Jobs in the history, this process's at their latest state (those submitted a
        moment ago included, before their record is saved), newest first."""
        mine = {job_id: job for job_id in list(self._scheduler.jobs)
                if (job := self._latest(job_id)) is not None}
        stored = self.store.list_jobs(states)
        saved = {job.id for job in stored}
        unsaved = [job for job_id, job in mine.items() if job_id not in saved]
        jobs = [mine.get(j.id, j) for j in stored] + unsaved
        jobs.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        return [j for j in jobs if states is None or j.state in states]

    def get_job_history(self, limit: int = 50) -> builtins.list[Job]:
        return self.store.get_recent(limit)

    def wait(self, job_id: str, timeout_s: float | None = None,
             until: Callable[[Job], bool] = lambda job: job.state.is_terminal()) -> Job:
        """Block until ``until(job)`` (by default: the job ended, and its end is
        recorded or given up) or the timeout."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = self.get(job_id)
            if until(job):
                return job
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return job
            self._writer.wait_changed(0.5 if left is None else min(left, 0.5))

    def close(self, active: str = "pause") -> None:
        """Stop: live jobs are paused (resumable later) or cancelled, in-flight units
        land, committing jobs finish, the history gets every record (bounded waits)."""
        if self._closed.is_set():
            return
        self._claims.close()  # promised claims are decided before the jobs are closed
        if self._started:
            event = Event.CLOSE_PAUSE if active == "pause" else Event.CLOSE_CANCEL
            with contextlib.suppress(Exception):
                self._scheduler.ask(Request(event, ""), timeout_s=DRAIN_S)
            self._scheduler.idle.wait(DRAIN_S)
            self._scheduler.stop(timeout_s=2.0)
        self._closed.set()
        self._leases.close()
        self._writer.close(timeout_s=self._writer.retry.retry_s + 1.0)
        executor = self._scheduler.executor
        if executor is not None:
            executor.shutdown()

    def recover(self) -> builtins.list[Job]:
        """Mark jobs whose owning process died INTERRUPTED (CANCELLED if cancelling);
        never refuses to start: a job that cannot be recovered now is left for later."""
        return recover_orphans(self.store, self.checkpoints, self.owner, self.lease_ttl_s)

    # ------------------------------------------------------------------ internals
    def _start(self) -> None:
        """Start the threads on first use (a manager that only lists starts none)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._scheduler.start()
            self._claims.start()
            self._leases.start()
            threading.Thread(target=self._take_control_requests, daemon=True,
                             name="seisproc-control").start()

    def _ask(self, event: Event, job_id: str, message: str) -> Job:
        self._start()
        job: Job = self._scheduler.ask(Request(event, job_id, message))
        return job

    def _latest(self, job_id: str) -> Job | None:
        """This process's record of the job, as decided; an end only once it is recorded
        (or given up), so that whoever sees a job end finds it in the history too."""
        settled = self._writer.settled(job_id)
        decided = self._scheduler.jobs.get(job_id)
        if decided is None or (decided.state.is_terminal() and settled is not None):
            return settled
        return decided

    def _owned(self, job_id: str) -> Job:
        job = self._scheduler.jobs.get(job_id)
        if job is None:
            job = self.get(job_id)
            raise IllegalTransition(f"job {job.id} is run by {job.owner or 'no process'}; "
                                    "ask that process (seisproc pause/cancel does)")
        return job

    def _adopt(self, job_id: str) -> Job:
        """Take over a job from the history whose owner is gone, for resume or cancel."""
        job = adopt(self.store, self.get(job_id), self.owner, self.lease_ttl_s)
        self._start()
        # taken in as it is: DRAINED changes nothing for an INTERRUPTED job and finishes
        # the cancellation of a CANCELLING one (no unit of it is in flight here)
        self._scheduler.post(Request(Event.DRAINED, job.id, job=job))
        return job

    def _claim_is_stale(self, claim: OutputClaim) -> bool:
        """A claim no process can still be writing under: its job ended, or the history
        never heard of it and its process is gone (killed before the job was saved)."""
        known = self._scheduler.jobs.get(claim.job_id)
        if known is None and claim.job_id:
            try:
                known = self.store.get_job(claim.job_id)
            except Exception:
                return False  # cannot tell: refuse rather than risk two writers
        if known is not None:
            return known.state.is_terminal()
        return not owner_alive(Job(id=claim.job_id, name="", owner=claim.owner))

    def _claim_refused(self, job: Job, exc: Exception) -> None:
        trace = "" if isinstance(exc, SeisprocError) else "".join(
            traceback.format_exception(exc))
        self._scheduler.post(Outcome(Event.PLAN_FAILED, job.id,
                                     JobError(type(exc).__name__, str(exc), trace)))

    def _ended(self, job_id: str) -> bool:
        job = self._scheduler.jobs.get(job_id)
        return job is not None and job.state.is_terminal()

    def _store_failed(self, job: Job, exc: Exception) -> None:
        cause = getattr(exc, "orig", None) or exc
        self._scheduler.post(Outcome(Event.STORE_FAILED, job.id, JobError("HistoryError", (
            f"job {job.id}: the job history could not record it: {type(cause).__name__}: "
            f"{' '.join(str(cause).split())}"))))

    def _stale(self, job: Job, exc: Exception) -> None:
        log.warning("%s", exc)
        self._scheduler.post(Outcome(Event.LEASE_LOST, job.id))

    def _leases_lost(self, job_ids: builtins.list[str]) -> None:
        for job_id in job_ids:
            log.warning("job %s: another process took it over; this one stops writing it",
                        job_id)
            self._scheduler.post(Outcome(Event.LEASE_LOST, job_id))

    def _take_control_requests(self) -> None:
        """Carry out pause, resume and cancel requests other processes left in the
        history; a database that fails is retried at the next poll."""
        while not self._closed.wait(self._control_poll_s):
            mine = self._scheduler.active()
            if not mine:
                continue
            try:
                requests = self.store.take_control_requests(mine)
            except Exception as exc:
                log.warning("control requests could not be read: %s", exc)
                continue
            for request in requests:
                try:
                    self._apply_control(request.action, request.job_id, request.message)
                except (SeisprocError, KeyError) as exc:
                    log.warning("control request %s on %s refused: %s", request.action,
                                request.job_id, exc)

    def _apply_control(self, action: str, job_id: str, message: str) -> None:
        if action == "resume":
            self.resume(job_id)
        elif action == "pause":
            self.pause(job_id, message)
        elif action == "cancel":
            self.cancel(job_id, message)
        else:
            raise KeyError(f"unknown action {action!r}")


def _freeze_what_is_loaded() -> None:
    """Move everything alive when an engine starts (numpy, SQLAlchemy, pydantic, the
    processor registry) to the garbage collector's permanent generation, so its full
    passes stop walking it: those passes stalled API calls for tens of ms. Measured with
    ``benchmarks/submission_latency.py`` on 2 cores: submit() p99 61-74 ms (one or two
    calls in 50) without, 6-10 ms with. Once per process: a later engine would freeze the
    garbage cycles made since, and they would never be collected."""
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.collect()
        gc.freeze()


_FROZEN = False
