"""The scheduler: the one thread that owns every job this process runs, and their runs.

Everything that changes a job arrives here as a message: a request from the API (pause,
resume, cancel, close), a submission, or the outcome of an effect (a plan made, an output
committed, a record the history refused, a lease lost). Each becomes an
:class:`~seisproc.jobs.decisions.Event`; :func:`~seisproc.jobs.decisions.decide` answers
it; the job moves, its record goes to the :class:`~seisproc.jobs.history_writer.
HistoryWriter`, and the effects run. Nothing here waits on the database, and slow work
(starting the workers, planning, committing) runs on threads of its own that report back
as messages. A failure while handling one message fails that job, never the others.

The only blocking calls on this thread are the executor's (a bounded wait for completions,
~0.5 ms submits) and the checkpoints' fsyncs (a batch's at once), which make units done.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seisproc.errors import SeisprocError
from seisproc.io.claim import release_claim
from seisproc.jobs import starting
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.committing import CommitOutcome, commit_job, hand_over
from seisproc.jobs.decisions import Effect, Event, decide
from seisproc.jobs.dispatching import collect_units, dispatch_units
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.history_writer import HistoryWriter
from seisproc.jobs.model import Job, JobError, JobState
from seisproc.jobs.ports import DurationPredictor, Executor, JobSpec
from seisproc.jobs.qc import JobQc
from seisproc.jobs.running import JobRun
from seisproc.jobs.staging import remove_job_files
from seisproc.jobs.starting import RunStart, ScanProgress, plan_run
from seisproc.jobs.transitions import IllegalTransition, transition
from seisproc.jobs.waiting import Judged, WaitingJudge
from seisproc.jobs.workers import WorkersStart

__all__ = ["Scheduler", "Request", "Outcome"]

log = logging.getLogger(__name__)
S = JobState
IDLE_WAIT_S = 0.25
PROGRESS_SAVE_S = 0.5
"""Progress reaches the history at most this often per job (events carry every unit)."""
NOTES = {S.PAUSED: "paused by user", S.QUEUED: "resumed; waiting for a slot",
         S.CANCELLING: "cancelled by user", S.RUNNING: "indexing the input and preparing "
         "the output", S.CANCELLED: None, S.COMPLETED: "completed"}


@dataclass
class Request:
    """A request of the API, answered through ``answer`` with the job as decided."""

    event: Event
    job_id: str
    message: str = ""
    answer: Future[Any] = field(default_factory=Future)
    job: Job | None = None
    """For a submission or an adopted job: the record to take over."""
    restart: bool = False


@dataclass(frozen=True)
class Outcome:
    """What an effect running elsewhere reports back."""

    event: Event
    job_id: str
    payload: Any = None


class Scheduler:
    """Owns jobs and runs; see the module docstring. Started by the JobManager."""

    def __init__(self, *, executor_factory: Callable[[], Executor],
                 checkpoints: CheckpointStore, writer: HistoryWriter, max_running: int,
                 gathers_per_unit: int, hold_lease: Callable[[Job], None],
                 drop_lease: Callable[[str], None]) -> None:
        self.checkpoints = checkpoints
        self.writer = writer
        self.max_running = max_running
        self.gathers_per_unit = gathers_per_unit
        self._hold_lease, self._drop_lease = hold_lease, drop_lease
        self.executor: Executor | None = None
        self.jobs: dict[str, Job] = {}
        """The records as decided: what ``JobManager.get`` answers (read from any thread)."""
        self.qc: collections.OrderedDict[str, JobQc] = collections.OrderedDict()
        self.runs: dict[str, JobRun] = {}
        """The planned jobs' runs (pending units, in flight, done)."""
        self.rotation: list[str] = []
        """Running jobs in dispatch order: the one served last goes to the back."""
        self._planning: set[str] = set()
        self.workers = WorkersStart(self, executor_factory, lambda result: self.post(
            Outcome(Event.WORKERS_FAILED, "", result)))
        """Starts the workers off this thread (:mod:`seisproc.jobs.workers`)."""
        self._inbox: queue.SimpleQueue[Request | Outcome | ScanProgress | Judged | None] = (
            queue.SimpleQueue())
        self.waiting = WaitingJudge(self)
        self._wake = threading.Event()
        self._closing: str | None = None
        self.idle = threading.Event()
        """Set once closing and nothing is left in flight, planning or committing."""
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="seisproc-scheduler")
        self._planner = ThreadPoolExecutor(1, thread_name_prefix="seisproc-plan")
        self._stopped = False

    # ------------------------------------------------------------------ from other threads
    def start(self) -> None:
        self._thread.start()

    def post(self, message: Request | Outcome | ScanProgress | Judged) -> None:
        self._inbox.put(message)
        self._wake.set()

    def submit(self, job: Job) -> None:
        """Take a new job without waiting for a turn: its record is visible at once (a
        new key, which no other thread writes), the rest happens on the scheduler."""
        self.jobs[job.id] = job
        self.post(Request(Event.START, job.id, job=job))

    def ask(self, request: Request, timeout_s: float = 30.0) -> Any:
        """Post ``request`` and wait for the decision (never for the database)."""
        if threading.current_thread() is self._thread:
            self._request(request)
        else:
            self.post(request)
        return request.answer.result(timeout=timeout_s)

    def stop(self, timeout_s: float) -> None:
        self._inbox.put(None)
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)
        self._planner.shutdown(wait=False, cancel_futures=True)

    @property
    def closing(self) -> bool:
        """Whether the process running these jobs is closing (no new work starts)."""
        return self._closing is not None

    def active(self) -> list[str]:
        return [job.id for job in list(self.jobs.values()) if job.state.is_active()]

    # ------------------------------------------------------------------ the loop
    def _loop(self) -> None:
        while not self._stopped:
            try:
                self._turn()
            except Exception:  # a bug must not stop every job: log, breathe, go on
                log.exception("scheduler turn failed")
                time.sleep(0.2)

    def _turn(self) -> None:
        self._read_inbox()
        if self._stopped:  # not another idle wait: close() is waiting on this thread
            return
        self.waiting.ask()
        self.workers.ensure()
        self.workers.start_queued()
        dispatch_units(self)
        self._collect()
        self._settle()
        self._save_progress()

    def _read_inbox(self) -> None:
        while True:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return
            if message is None:
                self._stopped = True
                return
            if isinstance(message, Request):
                self._request(message)
            elif isinstance(message, ScanProgress):
                self.guarded(message.job_id, starting.show_scan, self, message)
            elif isinstance(message, Judged):
                self.waiting.apply(message)
            else:
                self.guarded(message.job_id, self._outcome, message)

    def _request(self, request: Request) -> None:
        try:
            request.answer.set_result(self._answer(request))
        except Exception as exc:
            request.answer.set_exception(exc)

    def _answer(self, request: Request) -> Job | None:
        if request.event in (Event.CLOSE_PAUSE, Event.CLOSE_CANCEL):
            self._close_all(request.event)
            return None
        if request.job is not None and request.event is Event.START:  # a submission
            self._take(request.job)
            return request.job
        if request.job is not None and request.job.id not in self.jobs:
            self._take(request.job)
        if request.job_id not in self.jobs:
            raise IllegalTransition(f"job {request.job_id} is not run by this process")
        if request.event is Event.RESUME and request.restart:
            self._forget_run(request.job_id, remove_files=True)
        return self.on(request.job_id, request.event, request.message)

    def _take(self, job: Job) -> None:
        """A submitted job, or one adopted from a dead process, becomes this process's."""
        self.jobs[job.id] = job
        self._hold_lease(job)
        self._wake.set()

    def safely(self, job_id: str, event: Event, message: str = "",
               error: JobError | None = None) -> None:
        """:meth:`on`, for the scheduler's own events: a failure fails that job only."""
        self.guarded(job_id, self.on, job_id, event, message, error)

    def guarded(self, job_id: str, action: Callable[..., object], *args: Any) -> None:
        """Run ``action(*args)`` for one job; if it raises, that job fails and no other."""
        try:
            action(*args)
        except Exception as exc:
            log.exception("job %s: the engine failed handling it", job_id)
            if job_id in self.jobs and not self.jobs[job_id].state.is_terminal():
                with contextlib.suppress(Exception):
                    self.on(job_id, Event.STORE_FAILED, error=JobError(
                        type(exc).__name__, f"internal error: {exc}", traceback.format_exc()))

    # ------------------------------------------------------------------ deciding
    def on(self, job_id: str, event: Event, message: str = "",
            error: JobError | None = None) -> Job:
        """Decide ``event`` for the job, move it, then carry out the effects."""
        job = self.jobs[job_id]
        run = self.runs.get(job_id)
        decision = decide(job.state, event, committing=run is not None and run.committing)
        if decision.refusal:
            raise IllegalTransition(decision.refusal.format(job=job.id))
        old = job
        if decision.to is not None:
            note = message or (error.message if error else NOTES.get(decision.to)) or job.message
            job = self._move(job, decision.to, note, error)
        for effect in decision.effects:  # before the record goes out: CANCELLED means gone
            self._effect(effect, job)
        if decision.to is not None:
            self._publish(old, job, error)
        return job

    def _move(self, job: Job, to: JobState, message: str, error: JobError | None) -> Job:
        run = self.runs.get(job.id)
        changes: dict[str, Any] = {} if run is None else {"progress": run.progress()}
        moved = transition(job, to, message=message, error=error or job.error, **changes)
        self.jobs[job.id] = moved
        return moved

    def _publish(self, old: Job, job: Job, error: JobError | None) -> None:
        """Hand the moved record to the history writer, which saves, then announces it."""
        detail = {"from": old.state.value, "to": job.state.value}
        ended = job.state.is_terminal()
        after_failure = ended and error is not None and error.type == "HistoryError"
        self.writer.save(job, JobEvent(JobEventKind.STATE_CHANGED, job, detail=detail),
                         retry=not after_failure, announce_unsaved=ended)
        if ended:
            self._drop_lease(job.id)
        elif old.state.is_terminal():  # a failed job run again: this process owns it again
            self._hold_lease(job)

    def _effect(self, effect: Effect, job: Job) -> None:
        """Carry out one effect; a failure is logged, and the decision stands."""
        try:
            self._carry_out(effect, job)
        except Exception:
            log.exception("job %s: effect %s failed", job.id, effect.value)

    def _carry_out(self, effect: Effect, job: Job) -> None:
        run = self.runs.get(job.id)
        if effect is Effect.PLAN:
            self._plan(job)
        elif effect is Effect.STOP_UNITS:
            if run is not None:
                run.stop()
                if run.in_flight and self.executor is not None:
                    self.executor.stop_job(job.id)
        elif effect is Effect.REMOVE_FILES:
            keep = run is not None and run.keep_partial
            if job.output:
                remove_job_files(job.flow, job.output, job.id, keep_partial=keep)
            self.checkpoints.remove(job.id)
        elif effect is Effect.RELEASE:
            self._release(job)
        elif effect is Effect.COMMIT and run is not None:
            run.committing = True
            target = self._commit if run.last_stage else self._finish_stage
            threading.Thread(target=target, args=(job, run), daemon=True,
                             name=f"seisproc-commit-{job.id}").start()
        elif effect is Effect.FORGET:
            self._forget_run(job.id, remove_files=False)
            self.jobs.pop(job.id, None)
            self.writer.forget(job.id)
            self._drop_lease(job.id)

    def _release(self, job: Job) -> None:
        """The run is over: the output claim goes now, the workers' files once drained."""
        if job.output:
            release_claim(Path(job.output), job.id)
        if job.id in self.rotation:
            self.rotation.remove(job.id)
        run = self.runs.get(job.id)
        if run is None or run.drained:
            self._forget_run(job.id, remove_files=False)

    def _forget_run(self, job_id: str, remove_files: bool) -> None:
        run = self.runs.pop(job_id, None)
        if job_id in self.rotation:
            self.rotation.remove(job_id)
        if run is not None and self.executor is not None:
            self.executor.release_job(job_id)
        if remove_files:
            job = self.jobs[job_id]
            remove_job_files(job.flow, job.output, job_id, keep_partial=False)
            self.checkpoints.remove(job_id)

    # ------------------------------------------------------------------ outcomes
    def _outcome(self, outcome: Outcome) -> None:
        job_id, event = outcome.job_id, outcome.event
        if event is Event.WORKERS_FAILED and job_id == "":
            self.workers.ready(outcome.payload)
            return
        if job_id not in self.jobs:
            return  # forgotten meanwhile (another process took it over)
        if event is Event.PLANNED or event is Event.PLAN_FAILED:
            self._planning.discard(job_id)
        if event is Event.PLANNED:
            self._install(job_id, outcome.payload)
        elif event in (Event.COMMITTED, Event.COMMIT_FAILED):
            self._committed(job_id, outcome.payload)
        elif isinstance(outcome.payload, JobError):
            self.on(job_id, event, error=outcome.payload)
        else:
            self.on(job_id, event, str(outcome.payload or ""))

    def _install(self, job_id: str, start: RunStart) -> None:
        job = self.jobs[job_id]
        if not job.state.is_active() or job.state is S.CANCELLING:
            return  # cancelled (or failed) while planning: its files go with the drain
        spec = JobSpec(job.id, start.flow, str(start.plan.partial_path),
                       start.plan.output_layout)
        run = JobRun.start(spec, start.plan, start.done, start.fingerprint, start.stage)
        self.runs[job_id] = run
        self.rotation.append(job_id)
        note = (f"resumed at unit {len(run.done)} of {len(start.plan.units)}"
                if run.done else "running")
        if start.stage.n_stages > 1:
            note = f"stage {start.stage.stage} of {start.stage.n_stages}: {note}"
        job = dataclasses.replace(job, progress=run.progress(),
                                  message=note if job.state is S.RUNNING else job.message)
        self.jobs[job_id] = job
        self.writer.save(job, JobEvent(JobEventKind.PROGRESS, job))
        if not start.done:
            self._predict(job, start)

    def _predict(self, job: Job, start: RunStart) -> None:
        """Record the history's estimate before the first unit lands (the analytics
        compare it with the actual); on the history thread, never failing the job."""
        store = self.writer.store
        if isinstance(store, DurationPredictor):
            def record() -> None:
                guess = store.predict([s.processor for s in start.flow.steps],
                                      start.plan.n_traces)
                store.record_prediction(job.id, guess)

            self.writer.call(record, f"duration prediction for job {job.id}")

    def _committed(self, job_id: str, outcome: CommitOutcome) -> None:
        run = self.runs.get(job_id)
        if run is not None:
            run.committing = False
            run.keep_partial = outcome.kept is not None
        if outcome.next_stage:
            self._next_stage(job_id)
        elif outcome.job is not None:  # saved by the commit; announced from here, in order
            previous, self.jobs[job_id] = self.jobs[job_id], outcome.job
            self._release(outcome.job)
            self._publish(previous, outcome.job, None)
        else:
            self.on(job_id, Event.COMMIT_FAILED, error=outcome.error)

    def _finish_stage(self, job: Job, run: JobRun) -> None:
        """A stage before the last is done: its output becomes the next one's input, on a
        thread of its own as a commit is (:func:`~seisproc.jobs.committing.hand_over`)."""
        outcome = hand_over(job, run.stage.stage)
        event = Event.COMMITTED if outcome.next_stage else Event.COMMIT_FAILED
        self.post(Outcome(event, job.id, outcome))

    def _next_stage(self, job_id: str) -> None:
        """Plan the next stage as a job is planned: the run of the stage that ended goes
        (its workers open the next stage's files with its first unit), the job stays
        RUNNING, and a pause or cancel meanwhile is taken as during any planning."""
        self.runs.pop(job_id, None)
        if job_id in self.rotation:
            self.rotation.remove(job_id)
        self._plan(self.jobs[job_id])

    # ------------------------------------------------------------------ planning, committing
    def _plan(self, job: Job) -> None:
        """Plan on the one planner thread: indexing is Python work that holds the GIL,
        and twenty planners at once made every API call wait for it (``submit()`` p99
        went from 6 to 21 ms)."""
        self._planning.add(job.id)
        self._planner.submit(self._plan_now, job)

    def _plan_now(self, job: Job) -> None:
        """Plan ``job``; the executor's workers scan an input not indexed yet, if they can."""
        try:
            self.post(Outcome(Event.PLANNED, job.id, plan_run(
                job, self.checkpoints, self.gathers_per_unit,
                scan=starting.scanner_of(self.executor),
                on_scanned=starting.scan_reporter(self, job.id))))
        except Exception as exc:
            trace = "" if isinstance(exc, SeisprocError) else traceback.format_exc()
            self.post(Outcome(Event.PLAN_FAILED, job.id,
                              JobError(type(exc).__name__, str(exc), trace)))

    def _commit(self, job: Job, run: JobRun) -> None:
        job = dataclasses.replace(job, progress=run.progress())
        try:
            outcome = commit_job(job, run.plan.partial_path, self.writer, self.checkpoints)
        except Exception as exc:
            outcome = CommitOutcome(error=JobError(type(exc).__name__, str(exc),
                                                   traceback.format_exc()))
        event = Event.COMMITTED if outcome.job is not None else Event.COMMIT_FAILED
        self.post(Outcome(event, job.id, outcome))

    # ------------------------------------------------------------------ bookkeeping
    def _collect(self) -> None:
        """Fold what came back, waiting up to ``WAIT_S`` for it; with nothing in flight,
        sleep until a message comes (or ``IDLE_WAIT_S``)."""
        executor = self.executor
        if executor is None or executor.in_flight() == 0:
            self._wake.wait(IDLE_WAIT_S)
            self._wake.clear()
            return
        collect_units(self, executor)

    def _settle(self) -> None:
        """Finish what needs no new message: drained cancellations, finished runs."""
        for job in list(self.jobs.values()):
            run = self.runs.get(job.id)
            drained = (run is None or run.drained) and job.id not in self._planning
            if job.state is S.CANCELLING and drained:
                self.safely(job.id, Event.DRAINED)
            elif job.state is S.RUNNING and run is not None and run.finished \
                    and not run.committing:
                self.safely(job.id, Event.ALL_DONE)
            elif job.state.is_terminal() and run is not None and run.drained \
                    and not run.committing:
                self._forget_run(job.id, remove_files=False)
        if self._closing is not None and not self._planning and not any(
                r.in_flight or r.committing for r in self.runs.values()) and not any(
                j.state is S.CANCELLING for j in self.jobs.values()):
            self.idle.set()

    def _save_progress(self) -> None:
        """Progress reaches the history: a job's first and last unit at once, others at
        most every ``PROGRESS_SAVE_S``; through the writer, so nobody waits for it."""
        now = time.monotonic()
        for job_id, run in self.runs.items():
            job = self.jobs[job_id]
            if run.unsaved and job.state in (S.RUNNING, S.PAUSED, S.QUEUED) and (
                    run.finished or now - run.persisted_at >= PROGRESS_SAVE_S):
                run.unsaved, run.persisted_at = False, now
                self.writer.save_progress(job)

    def _close_all(self, event: Event) -> None:
        """Begin closing: live jobs are paused or cancelled (committing ones finish); then
        :attr:`idle` is set once nothing is in flight, planning or committing."""
        self._closing = event.value
        note = ("paused: the process running it closed" if event is Event.CLOSE_PAUSE
                else "cancelled: the process running it closed")
        for job_id in self.active():
            self.safely(job_id, event, note)
        self._wake.set()
