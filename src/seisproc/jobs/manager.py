"""The JobManager: the driver, and the single source of truth about jobs.

Public calls (``submit``, ``pause``, ``resume``, ``cancel``…) may come from any thread;
they change the job, persist it, announce it, and wake the scheduler thread, which plans
started jobs, dispatches their units fairly to the executor with bounded work in flight,
and folds completions into progress, checkpoints and final states. Workers decide
nothing: a unit goes out, traces are written, a small result comes back.

The lock guards memory, and is held for at most one store write at a time: checkpoint
fsyncs, Ray calls, planning and output commits (a thread per finishing job) run outside
it, so an API call never waits behind a burst of I/O. A unit is announced (``PROGRESS``)
as soon as its checkpoint is durable, one fsync per job for the units that came back
together; the store gets progress after the announcement, at most every
``PROGRESS_SAVE_S`` per job (state transitions are always saved before they are
announced).
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seisproc.errors import OutputError, ProcessingError, SeisprocError
from seisproc.io.writer import commit_output, discard_output
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import EventBus, JobEvent, JobEventKind, Subscriber
from seisproc.jobs.model import Job, JobError, JobState, JobType, new_job_id, utcnow
from seisproc.jobs.owner import HEARTBEAT_S, owner_alive, this_owner
from seisproc.jobs.plan import (
    DEFAULT_GATHERS_PER_UNIT,
    JobPlan,
    check_output_path,
    partial_path_for,
    plan_job,
)
from seisproc.jobs.ports import Completion, DurationPredictor, Executor, JobSpec, JobStore
from seisproc.jobs.qc import JobQc
from seisproc.jobs.running import JobRun
from seisproc.jobs.transitions import IllegalTransition, transition
from seisproc.jobs.units import UnitResult, WorkUnit
from seisproc.processing.flow import Flow

__all__ = ["JobManager", "JobNotFound"]

log = logging.getLogger(__name__)
S = JobState
MAX_UNIT_RETRIES = 3
WAIT_S = 0.05
"""Longest wait for a completion before the scheduler looks at its other work."""
PROGRESS_SAVE_S = 0.5
"""Progress reaches the store at most this often per job (events carry every unit)."""
HEARTBEATS_PER_TURN = 4
"""Jobs the heartbeat refreshes per scheduler turn (turns come every 0.25 s at least)."""
QC_JOBS_KEPT = 64
"""Jobs whose QC stays in memory; beyond it, finished jobs' QC is forgotten, oldest first."""


class JobNotFound(SeisprocError):
    """No job with that id (or id prefix) in the history."""


class JobManager:
    """Owns job state; see the module docstring.

    >>> manager = JobManager(store, executor_factory, checkpoints)   # doctest: +SKIP
    >>> job = manager.submit(load_flow("flow.yaml"))                  # doctest: +SKIP
    >>> manager.wait(job.id).state                                    # doctest: +SKIP
    <JobState.COMPLETED: 'COMPLETED'>
    """

    def __init__(self, store: JobStore, executor_factory: Callable[[], Executor],
                 checkpoints: CheckpointStore, *, max_running: int = 4,
                 gathers_per_unit: int = DEFAULT_GATHERS_PER_UNIT,
                 control_poll_s: float = 0.25,
                 validate_flow: Callable[[Flow], None] | None = None) -> None:
        self.store = store
        self.checkpoints = checkpoints
        self.max_running = max_running
        self.gathers_per_unit = gathers_per_unit
        self.owner = this_owner()
        self._executor_factory = executor_factory
        """Called on the first job that starts: starting Ray takes seconds, submit may not."""
        self._validate_flow = validate_flow
        """Checks against the infrastructure (a GPU the flow asks for) that must refuse a
        job at submission; raises a SeisprocError. Supplied by the composition root."""
        self._executor: Executor | None = None
        self._events = EventBus()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._jobs: dict[str, Job] = {}
        self._active: dict[str, Job] = {}
        """The queued, running, paused and cancelling ones of ``_jobs``."""
        self._runs: dict[str, JobRun] = {}
        self._qc: dict[str, JobQc] = {}
        """QC of the jobs this manager ran, least recently updated first (see :meth:`qc`)."""
        self._rotation: list[str] = []
        self._thread: threading.Thread | None = None
        self._closing = False
        self._control_poll_s = control_poll_s
        self._last_control = 0.0
        self._last_heartbeat = time.monotonic()  # jobs are saved as they are submitted
        self._heartbeat_due: deque[str] = deque()
        """Active jobs whose ``updated_at`` the heartbeat has yet to refresh."""
        self.recover()

    # ------------------------------------------------------------------ public API
    @property
    def executor(self) -> Executor | None:
        """The worker pool, once the first job has started it (``None`` before): what
        a monitor's cluster probe lists as workers."""
        return self._executor

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every :class:`JobEvent`; returns the unsubscribe function."""
        return self._events.subscribe(subscriber)

    def submit(self, flow: Flow, *, name: str | None = None, priority: int = 0,
               job_type: JobType = JobType.PROCESSING, tags: Sequence[str] = (),
               overwrite: bool = False) -> Job:
        """Queue ``flow`` as a job and return at once; the job is persisted (QUEUED).

        Refused (nothing persisted) with a :class:`SeisprocError` if the output may not be
        written or the injected ``validate_flow`` refuses the flow.
        """
        check_output_path(flow, overwrite)
        if self._validate_flow is not None:
            self._validate_flow(flow)
        job = Job(id=new_job_id(), name=name or flow.name, type=job_type, priority=priority,
                  flow=flow.to_mapping(), input=str(flow.input), output=str(flow.output),
                  owner=self.owner, tags=tuple(tags))
        with self._lock:
            self._refuse_output_conflict(flow)
            self._publish(job, JobEventKind.SUBMITTED)
        self._kick()
        return job

    def pause(self, job_id: str, message: str = "paused by user") -> Job:
        """Stop dispatching the job's units; in-flight units finish and are kept."""
        with self._lock:
            job = self._owned(job_id)
            self._refuse_committing(job.id)
            return self._move(job, S.PAUSED, message)

    def resume(self, job_id: str) -> Job:
        """Continue a paused job, or re-queue an interrupted one from its checkpoint."""
        with self._lock:
            job = self._jobs.get(job_id) or self._adopt(job_id)
            if job.state is S.PAUSED and job.id in self._runs:
                job = self._move(job, S.RUNNING, "resumed")
            elif job.state in (S.PAUSED, S.INTERRUPTED):
                job = self._move(job, S.QUEUED, "resumed; waiting for a slot")
            else:
                raise IllegalTransition(f"job {job.id} is {job.state.value}: only PAUSED or "
                                        "INTERRUPTED jobs can be resumed")
        self._kick()
        return job

    def cancel(self, job_id: str, message: str = "cancelled by user") -> Job:
        """Stop the job: in-flight units are dropped, its partial output is removed."""
        with self._lock:
            job = self._jobs.get(job_id) or self._adopt(job_id)
            self._refuse_committing(job.id)
            run = self._runs.get(job.id)
            job = self._move(job, S.CANCELLING, message)
            if run is not None:
                run.stopping = True
                run.pending.clear()
                if self._executor is not None:
                    self._executor.stop_job(job.id)
        self._kick()
        return job

    def cancel_all(self) -> builtins.list[Job]:
        """Cancel every active job this manager owns."""
        with self._lock:
            active = [j.id for j in self._active.values() if j.state is not S.CANCELLING]
        cancelled = []
        for job_id in active:
            try:
                cancelled.append(self.cancel(job_id))
            except IllegalTransition:  # finished meanwhile, or committing its output
                continue
        return cancelled

    def get(self, job_id: str) -> Job:
        """The job, from memory if this manager owns it, else from the store."""
        with self._lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
        job = self.store.get_job(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r} in the history")
        return job

    def qc(self, job_id: str) -> JobQc:
        """The quality figures of a job run by this manager so far (empty for others).

        Kept in memory only: for the running jobs and the last finished ones (up to
        ``QC_JOBS_KEPT`` jobs in all). Each ``UNIT_COMPLETED`` event's ``qc`` detail
        carries the figures of that unit's gathers.
        """
        with self._lock:
            return self._qc.get(job_id, JobQc())

    def list(self, states: Sequence[JobState] | None = None) -> builtins.list[Job]:
        """Jobs in the store (this manager's own at their latest state), newest first."""
        with self._lock:
            mine = dict(self._jobs)
        jobs = [mine.get(j.id, j) for j in self.store.list_jobs(states)]
        return [j for j in jobs if states is None or j.state in states]

    def get_job_history(self, limit: int = 50) -> builtins.list[Job]:
        return self.store.get_recent(limit)

    def wait(self, job_id: str, timeout_s: float | None = None,
             until: Callable[[Job], bool] = lambda job: job.state.is_terminal()) -> Job:
        """Block until ``until(job)`` (by default: the job finished) or the timeout."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while True:
                job = self._jobs.get(job_id) or self.get(job_id)
                if until(job):
                    return job
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return job
                self._changed.wait(0.5 if left is None else min(left, 0.5))

    # The seed's vocabulary for the three ways a job ends.
    def complete_job(self, job_id: str) -> Job:
        """Give the finished output its name, then mark the job COMPLETED.

        The commit (an fsync of a file of gigabytes), the checkpoint's removal and the
        workers' release run outside the lock, so the API stays responsive; a job being
        committed can no longer be paused or cancelled.
        """
        with self._lock:
            run = self._runs[job_id]
            run.committing = True
        commit_output(run.plan.partial_path, run.plan.flow.output)
        self.checkpoints.remove(job_id)  # the output is whole: a resume would redo it all
        with self._lock:
            self._runs.pop(job_id)
            job = self._move(self._jobs[job_id], S.COMPLETED, "completed",
                             progress=run.progress())
            if job_id in self._rotation:
                self._rotation.remove(job_id)
        if self._executor is not None:
            self._executor.release_job(job_id)
        return job

    def fail_job(self, job_id: str, error: JobError) -> Job:
        with self._lock:
            run = self._runs.get(job_id)
            if run is not None:
                run.stopping = True
                run.pending.clear()
                if self._executor is not None:
                    self._executor.stop_job(job_id)
            self._cleanup_files(self._jobs[job_id])
            job = self._move(self._jobs[job_id], S.FAILED, error.message, error=error)
            if run is None or run.drained:
                self._runs.pop(job_id, None)
                self._release(job_id)
            return job

    def finalize_cancellation(self, job_id: str) -> Job:
        with self._lock:
            self._runs.pop(job_id, None)
            self._cleanup_files(self._jobs[job_id])
            job = self._move(self._jobs[job_id], S.CANCELLED, self._jobs[job_id].message)
            self._release(job_id)
            return job

    def close(self, active: str = "pause") -> None:
        """Stop the scheduler; ``active`` jobs are paused (resumable later) or cancelled."""
        with self._lock:
            for job in list(self._active.values()):
                if job.id in self._runs and self._runs[job.id].committing:
                    continue  # it completes on its own: _drain waits for it
                if job.state in (S.QUEUED, S.RUNNING) and active == "pause":
                    self._move(job, S.PAUSED, "paused: the process running it closed")
                elif job.state.is_active() and job.state is not S.CANCELLING and active == "cancel":
                    with contextlib.suppress(IllegalTransition):
                        self.cancel(job.id, "cancelled: the process running it closed")
        self._drain(timeout_s=10.0)
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._executor is not None:
            self._executor.shutdown()

    # ------------------------------------------------------------------ recovery
    def recover(self) -> builtins.list[Job]:
        """Mark jobs whose owning process died: INTERRUPTED, or CANCELLED if cancelling."""
        found = []
        for job in self.store.list_jobs([S.QUEUED, S.RUNNING, S.PAUSED, S.CANCELLING]):
            if job.owner == self.owner or owner_alive(job):
                continue
            if job.state is S.CANCELLING:
                self._cleanup_files(job)
                job = transition(job, S.CANCELLED)
            else:
                job = transition(job, S.INTERRUPTED, message=(
                    f"the process running it ({job.owner}) stopped; "
                    f"resume with: seisproc resume {job.id}"))
            self.store.save_job(job)
            found.append(job)
        return found

    # ------------------------------------------------------------------ internals
    def _owned(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            job = self.get(job_id)
            raise IllegalTransition(f"job {job.id} is run by {job.owner or 'no process'}; "
                                    "ask that process (seisproc pause/cancel does)")
        return job

    def _refuse_committing(self, job_id: str) -> None:
        run = self._runs.get(job_id)
        if run is not None and run.committing:
            raise IllegalTransition(f"job {job_id} is finishing: its output is being "
                                    "committed")

    def _adopt(self, job_id: str) -> Job:
        """Take over a job from the store whose owner is gone (for resume or cancel)."""
        job = self.get(job_id)
        if job.state.is_active() and owner_alive(job):
            raise IllegalTransition(f"job {job.id} is {job.state.value} in process {job.owner}")
        job = dataclasses.replace(job, owner=self.owner)
        self._remember(job)
        return job

    def _refuse_output_conflict(self, flow: Flow) -> None:
        output = str(flow.output)
        for job in self._active.values():
            if job.output == output:
                raise OutputError(f"{flow.output}: job {job.id} ({job.name}) is already "
                                  "writing this output")

    def _move(self, job: Job, to: JobState, message: str, **changes: Any) -> Job:
        old = job.state
        job = transition(job, to, message=message, owner=self.owner, **changes)
        self._publish(job, JobEventKind.STATE_CHANGED, {"from": old.value, "to": to.value})
        return job

    def _publish(self, job: Job, kind: JobEventKind, detail: dict[str, Any] | None = None,
                 persist: bool = True) -> None:
        """Persist, remember, announce: in that order, under the lock."""
        if persist:
            self.store.save_job(job)
        self._remember(job)
        self._events.emit(JobEvent(kind, job, detail=detail or {}))
        self._changed.notify_all()

    def _remember(self, job: Job) -> None:
        """Keep ``job`` as its latest record; active jobs are indexed apart, so that a turn
        of the scheduler costs the same after thousands of finished jobs."""
        self._jobs[job.id] = job
        if job.state.is_active():
            self._active[job.id] = job
        else:
            self._active.pop(job.id, None)

    def _kick(self) -> None:
        """Wake the scheduler thread, starting it if needed (the lock only for that: a
        caller such as ``submit`` must not wait behind the scheduler a second time)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._closing = False
                    self._thread = threading.Thread(target=self._loop, daemon=True,
                                                    name="seisproc-scheduler")
                    self._thread.start()
        self._wake.set()

    def _cleanup_files(self, job: Job) -> None:
        if job.output:
            discard_output(partial_path_for(Path(job.output), job.id))
        self.checkpoints.remove(job.id)

    def _release(self, job_id: str) -> None:
        if job_id in self._rotation:
            self._rotation.remove(job_id)
        if self._executor is not None:
            self._executor.release_job(job_id)

    def _drain(self, timeout_s: float) -> None:
        """Let in-flight units land (and be checkpointed), commits and cancellations
        finish."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while (any(j.state is S.CANCELLING for j in self._active.values())
                   or any(r.in_flight or r.committing for r in self._runs.values())):
                if time.monotonic() > deadline:
                    break
                self._changed.wait(0.1)

    # ------------------------------------------------------------------ scheduler thread
    def _loop(self) -> None:
        while not self._closing:
            try:
                self._step()
            except Exception:
                log.exception("scheduler step failed")
                time.sleep(0.2)

    def _step(self) -> None:
        """One turn: control requests, start one queued job, commit finished ones, fill the
        workers, fold what came back; then the history writes nobody waits for.

        The lock is held for memory work and at most one store write at a time (the API
        calls wait for it); fsyncs, Ray calls, planning and output commits run outside it.
        """
        self._poll_control()
        self._ensure_executor()
        with self._lock:
            self._settle()
            job = self._claim_next()
        if job is not None:  # planning reads and allocates files: outside the lock
            self._start(job)
        self._commit_finished()
        self._dispatch()
        self._collect()
        self._save_progress()
        self._heartbeat()

    def _collect(self) -> None:
        """Fold the completions that came back, waiting up to ``WAIT_S`` for the first
        one; with nothing in flight, sleep until woken or a control poll is due."""
        executor = self._executor
        if executor is not None and executor.in_flight() > 0:
            self._fold(executor.wait(WAIT_S))
        else:
            self._wake.wait(self._control_poll_s)
            self._wake.clear()

    def _ensure_executor(self) -> None:
        """Start the executor (Ray: seconds) outside the lock, when a job waits for it."""
        if self._executor is not None:
            return
        with self._lock:
            waiting = [j for j in self._active.values() if j.state is S.QUEUED]
        if not waiting:
            return
        try:
            executor = self._executor_factory()
        except Exception as exc:
            self._fail_waiting(waiting, exc)
            return
        with self._lock:
            self._executor = executor

    def _fail_waiting(self, waiting: builtins.list[Job], exc: Exception) -> None:
        """Fail the jobs that waited for an executor that could not start (no cluster at
        the address, Ray unable to start), with its message; jobs cancelled meanwhile are
        left to finish their cancellation."""
        trace = "" if isinstance(exc, SeisprocError) else traceback.format_exc()
        error = JobError(type(exc).__name__, f"the workers could not start: {exc}", trace)
        with self._lock:
            for job in waiting:
                if self._jobs[job.id].state is S.QUEUED:
                    self._move(self._jobs[job.id], S.RUNNING, "starting the workers")
                    self.fail_job(job.id, error)

    def _claim_next(self) -> Job | None:
        """Move the next queued job (priority, then age) to RUNNING for planning, if a slot
        is free. One per turn: the lock is never held for a burst of store writes (20
        claims took 25 ms, which a ``submit`` waited for), and the scheduler thread does
        not hog the interpreter while callers submit."""
        if self._executor is None:
            return None
        running = sum(1 for j in self._active.values() if j.state is not S.QUEUED and j.started_at)
        queued = [j for j in self._active.values() if j.state is S.QUEUED]
        if running >= self.max_running or not queued:
            return None
        job = min(queued, key=lambda j: (-j.priority, j.created_at))
        return self._move(job, S.RUNNING, "indexing the input and preparing the output")

    def _start(self, job: Job) -> None:
        """Plan a claimed job (index, pre-created or resumed output), then install its run."""
        try:
            flow = Flow.model_validate(job.flow)
            done = self.checkpoints.load(job.id)
            resuming = bool(done) and partial_path_for(flow.output, job.id).exists()
            plan = plan_job(flow, overwrite=True, tag=job.id, create=not resuming,
                            gathers_per_unit=self.gathers_per_unit)
        except Exception as exc:
            trace = "" if isinstance(exc, SeisprocError) else traceback.format_exc()
            with self._lock:
                if self._jobs[job.id].state is S.RUNNING:
                    self.fail_job(job.id, JobError(type(exc).__name__, str(exc), trace))
            return
        done = done if resuming else set()
        if not resuming:
            self.checkpoints.remove(job.id)
        with self._lock:
            self._install(self._jobs[job.id], flow, plan, done)
        if not done:
            self._predict(job.id, flow, plan)

    def _predict(self, job_id: str, flow: Flow, plan: JobPlan) -> None:
        """Record the history's estimate before the first unit lands; never fails a job."""
        if not isinstance(self.store, DurationPredictor):
            return
        try:
            guess = self.store.predict([s.processor for s in flow.steps], plan.n_traces)
            self.store.record_prediction(job_id, guess)
        except Exception:
            log.warning("duration prediction for job %s failed", job_id, exc_info=True)

    def _install(self, job: Job, flow: Flow, plan: JobPlan, done: set[int]) -> None:
        """Make a planned job dispatchable, unless it was cancelled while planning."""
        if job.state not in (S.RUNNING, S.PAUSED):
            return  # cancelled meanwhile: _settle removes the files it planned
        run = JobRun.start(JobSpec(job.id, flow, str(plan.partial_path), plan.output_layout),
                           plan, done)
        self._runs[job.id] = run
        self._rotation.append(job.id)
        note = f"resumed at unit {len(done)} of {len(plan.units)}" if done else "running"
        self._publish(dataclasses.replace(job, progress=run.progress(),
                                          message=note if job.state is S.RUNNING
                                          else job.message), JobEventKind.PROGRESS,
                      persist=False)  # not a transition: the store gets it with the 1st unit

    def _commit_finished(self) -> None:
        """Commit each job whose units are all done on a thread of its own: the fsync of
        an output of gigabytes (tens of ms for 65 MB here) must not hold up the other
        jobs' progress and dispatch."""
        with self._lock:
            ready = [jid for jid, run in self._runs.items() if run.finished
                     and not run.committing and self._jobs[jid].state is S.RUNNING]
            for job_id in ready:
                self._runs[job_id].committing = True
        for job_id in ready:
            threading.Thread(target=self._commit, args=(job_id,), daemon=True,
                             name=f"seisproc-commit-{job_id}").start()

    def _commit(self, job_id: str) -> None:
        try:
            self.complete_job(job_id)
        except OSError as exc:
            with self._lock:
                self._runs[job_id].committing = False
                self.fail_job(job_id, JobError("OutputError", f"{self._jobs[job_id].output}: "
                                               f"cannot finish the output: {exc.strerror}"))
        except Exception:
            log.exception("committing the output of job %s failed", job_id)

    def _dispatch(self) -> None:
        """Fill the executor's capacity: units are taken under the lock, then handed to
        the executor (Ray calls, ~0.5 ms each) outside it."""
        executor = self._executor
        if executor is None:
            return
        with self._lock:
            taken = self._take_units(executor.capacity() - executor.in_flight())
        for spec, unit in taken:
            executor.submit(spec, unit)

    def _take_units(self, room: int) -> builtins.list[tuple[JobSpec, WorkUnit]]:
        """Up to ``room`` units, one per running job per round: a small job is never
        starved by a big one."""
        taken: builtins.list[tuple[JobSpec, WorkUnit]] = []
        while len(taken) < room:
            ready = [jid for jid in self._rotation if self._dispatchable(jid)]
            if not ready:
                break
            for job_id in ready[: room - len(taken)]:
                run = self._runs[job_id]
                taken.append((run.spec, run.take()))
                self._rotation.remove(job_id)
                self._rotation.append(job_id)
        return taken

    def _dispatchable(self, job_id: str) -> bool:
        run = self._runs.get(job_id)
        return (run is not None and not run.stopping and bool(run.pending)
                and self._jobs[job_id].state is S.RUNNING)

    def _fold(self, completions: Sequence[Completion]) -> None:
        """Fold completions that came back together: account them, make the done units
        durable (one write and one fsync per job, outside the lock), then announce them.

        Nothing waits on the store here: progress reaches it in :meth:`_save_progress`.
        """
        if not completions:
            return
        with self._lock:
            done = [c for c in completions if self._on_completion(c)]
            done = [c for c in done if not self._jobs[c.job_id].state.is_terminal()]
        durable = self._make_durable(done)
        with self._lock:
            for completion in durable:
                self._unit_done(completion)
            for job_id in dict.fromkeys(c.job_id for c in completions):
                self._finish_if_done(job_id)

    def _on_completion(self, completion: Completion) -> bool:
        """Account one completion (under the lock); True for a unit newly done."""
        run = self._runs.get(completion.job_id)
        if run is None:
            return False
        job = self._jobs[completion.job_id]
        if job.state.is_terminal():  # failed with units still in flight
            run.record(completion.unit, None)
            if run.drained:
                self._runs.pop(job.id)
                self._release(job.id)
        elif completion.worker_lost:
            self._retry(job, run, completion)
        elif completion.error is not None:
            run.record(completion.unit, None)
            if not run.stopping:
                self.fail_job(job.id, _job_error(completion))
        else:
            return run.record(completion.unit, completion.result)
        return False

    def _make_durable(self, done: Sequence[Completion]) -> builtins.list[Completion]:
        """Append the done units to their jobs' checkpoints; a job whose checkpoint cannot
        be written fails, and its units are not announced."""
        units: dict[str, builtins.list[int]] = {}
        for completion in done:
            units.setdefault(completion.job_id, []).append(completion.unit.number)
        lost: dict[str, OSError] = {}
        for job_id, numbers in units.items():
            try:
                self.checkpoints.append_many(job_id, numbers)
            except OSError as exc:
                lost[job_id] = exc
        if not lost:
            return list(done)
        with self._lock:
            for job_id, error in lost.items():
                if self._jobs[job_id].state is S.RUNNING:
                    self.fail_job(job_id, JobError("OSError", (
                        f"{self.checkpoints.path(job_id)}: cannot record progress: {error}")))
        return [c for c in done if c.job_id not in lost]

    def _retry(self, job: Job, run: JobRun, completion: Completion) -> None:
        tries = run.give_back(completion.unit)
        detail = {"unit": completion.unit.number, "node": completion.node, "tries": tries}
        self._events.emit(JobEvent(JobEventKind.WORKER_LOST, job, detail=detail))
        if tries > MAX_UNIT_RETRIES:
            run.pending.remove(completion.unit)
            self.fail_job(job.id, JobError("WorkerLost", (
                f"unit {completion.unit.number} lost its worker {tries} times; "
                "the job was stopped")))

    def _unit_done(self, completion: Completion) -> None:
        """Announce a unit whose checkpoint is durable: PROGRESS, then UNIT_COMPLETED."""
        result, run = completion.result, self._runs.get(completion.job_id)
        job = self._jobs[completion.job_id]
        if result is None or run is None or job.state.is_terminal():
            return
        nodes = job.nodes if not completion.node or completion.node in job.nodes else (
            *job.nodes, completion.node)
        job = dataclasses.replace(job, progress=run.progress(), nodes=nodes)
        run.unsaved = True
        unit = {"unit": completion.unit.number, "seconds": result.seconds,
                "traces": result.traces, "node": completion.node}
        self._publish(job, JobEventKind.PROGRESS, unit, persist=False)
        self._record_qc(job.id, result)
        self._publish(job, JobEventKind.UNIT_COMPLETED, {
            **unit, "non_finite": result.non_finite,
            "qc": [gather.to_dict() for gather in result.qc]}, persist=False)

    def _save_progress(self) -> None:
        """Write announced progress to the store: a job's first and last unit at once,
        others at most every ``PROGRESS_SAVE_S``. One job per turn, after the events, so
        the write delays no announcement and holds the lock for one write only."""
        now = time.monotonic()
        with self._lock:
            due = [(run.persisted_at, job_id) for job_id, run in self._runs.items()
                   if run.unsaved and (run.finished or now - run.persisted_at >= PROGRESS_SAVE_S)]
            if not due:
                return
            job_id = min(due)[1]
            run, job = self._runs[job_id], self._jobs[job_id]
            run.unsaved, run.persisted_at = False, now
            if job.state in (S.RUNNING, S.PAUSED):  # a transition saves the others itself
                self.store.save_job(job)

    def _record_qc(self, job_id: str, result: UnitResult) -> None:
        """Fold a unit's QC into its job's; forget the oldest finished jobs' beyond the
        bound."""
        self._qc[job_id] = self._qc.pop(job_id, JobQc()).add(result)
        excess = len(self._qc) - QC_JOBS_KEPT
        if excess > 0:
            finished = [i for i in self._qc if i not in self._jobs
                        or self._jobs[i].state.is_terminal()]
            for old in finished[:excess]:
                del self._qc[old]

    def _finish_if_done(self, job_id: str) -> None:
        """Finalize a cancellation whose units drained; completions are committed by
        :meth:`_commit_finished` outside the lock."""
        run = self._runs.get(job_id)
        job = self._jobs[job_id]
        if run is not None and job.state is S.CANCELLING and run.drained:
            self.finalize_cancellation(job_id)

    def _settle(self) -> None:
        """Finish cancellations that need no new completion (cancelled while queued or
        while planning)."""
        for job in list(self._active.values()):
            if job.state is S.CANCELLING and job.id not in self._runs:
                self.finalize_cancellation(job.id)
            elif job.id in self._runs:
                self._finish_if_done(job.id)

    def _poll_control(self) -> None:
        now = time.monotonic()
        if now - self._last_control < self._control_poll_s:
            return
        self._last_control = now
        with self._lock:
            mine = list(self._active)
        if not mine:
            return
        for request in self.store.take_control_requests(mine):
            try:
                self._apply_control(request.action, request.job_id, request.message)
            except (IllegalTransition, KeyError) as exc:
                log.warning("control request %s on %s refused: %s", request.action,
                            request.job_id, exc)

    def _apply_control(self, action: str, job_id: str, message: str) -> None:
        """Carry out another process's request; a pause or cancel writes the asker's
        reason on the job (``paused by alert …``), or the default when it gave none."""
        stop = {"pause": self.pause, "cancel": self.cancel}.get(action)
        if action == "resume":
            self.resume(job_id)
        elif stop is None:
            raise KeyError(f"unknown action {action!r}")
        elif message:
            stop(job_id, message)
        else:
            stop(job_id)

    def _heartbeat(self) -> None:
        """Refresh ``updated_at`` of every active job each ``HEARTBEAT_S`` (another host
        takes a job not refreshed for a minute for orphaned): a few jobs per turn, one
        write per hold of the lock, never a burst of writes that callers wait behind."""
        now = time.monotonic()
        if now - self._last_heartbeat >= HEARTBEAT_S:
            self._last_heartbeat = now
            with self._lock:
                self._heartbeat_due.extend(self._active)
        for _ in range(min(HEARTBEATS_PER_TURN, len(self._heartbeat_due))):
            job_id = self._heartbeat_due.popleft()
            with self._lock:
                job = self._active.get(job_id)
                if job is not None:
                    job = dataclasses.replace(job, updated_at=utcnow())
                    self.store.save_job(job)
                    self._remember(job)


def _job_error(completion: Completion) -> JobError:
    exc = completion.error
    assert exc is not None
    gather = None
    if isinstance(exc, ProcessingError) and "gather " in str(exc):
        gather = str(exc).split("gather ", 1)[1].split(",", 1)[0]
    return JobError(type(exc).__name__, str(exc), completion.traceback, gather)
