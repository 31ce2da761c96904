"""Per-job metrics for the monitor: rate, predicted rate, time without progress, ETA.

A :class:`~seisproc.jobs.model.Job` says how far a job got, not *when* it last moved:
its ``updated_at`` is also bumped by the owner's heartbeat. :class:`JobTracker` remembers
when each job's progress last changed, which is what ``job_no_progress_seconds`` (the
"job stuck" rule) needs. It is fed either by a :class:`~seisproc.jobs.manager.JobManager`'s
events (:meth:`JobTracker.following`: exact, and free between events) or by polling any
callable that lists jobs, such as a job store read by ``seisproc monitor`` in another
process.

Followed jobs also carry their data's quality: each ``UNIT_COMPLETED`` event brings the
unit's per-gather QC (:class:`~seisproc.jobs.qc.GatherQc`), folded into the ``qc_*``
metrics; :meth:`JobTracker.on_unit` hands the fresh metrics to alert rules at once, so a
rule on ``job.qc_non_finite`` can pause a job within a unit, not a sampling interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.qc import GatherQc
from seisproc.monitoring.snapshot import JobMetrics
from seisproc.observers import Subscribers

__all__ = ["JobTracker", "Predictor", "ACTIVE_STATES"]

log = logging.getLogger(__name__)

ACTIVE_STATES = tuple(s for s in JobState if s.is_active())
Predictor = Callable[[Job], float | None]
"""Predicted traces/s for a job (from the job history), or ``None`` when unknown."""


@dataclass
class _Quality:
    """QC totals of one job, from its units' events."""

    non_finite: int = 0
    dead_traces: int = 0
    rms_last: float | None = None
    dominant_hz_last: float | None = None

    def add(self, gathers: list[GatherQc]) -> None:
        self.non_finite += sum(g.non_finite for g in gathers)
        self.dead_traces += sum(g.dead_traces for g in gathers)
        if gathers:
            self.rms_last, self.dominant_hz_last = gathers[-1].rms, gathers[-1].dominant_hz


@dataclass
class _Seen:
    job: Job
    moved_at: float
    """Monotonic time the job's progress last changed (or it last entered RUNNING)."""
    running_since: float
    predicted: float | None
    quality: _Quality = field(default_factory=_Quality)


def _progress_key(job: Job) -> tuple[int, int]:
    return job.progress.units_done, job.progress.traces_done


class JobTracker:
    """Turns job records into :class:`JobMetrics`; call it to get the active jobs' metrics.

    Parameters
    ----------
    source
        Lists the jobs to report (polled on each call); ``None`` when jobs arrive through
        :meth:`observe` (see :meth:`following`).
    lookup
        Finds a job by id; used to learn how a polled job ended once it leaves ``source``.
    predict
        Predicted rate per job, asked once per job (the history issue supplies it).
    clock
        Monotonic seconds; tests pass a fake one.

    Examples
    --------
    >>> from seisproc.jobs.model import Job, JobState
    >>> tracker = JobTracker(lambda: [Job(id="a1", name="demo", state=JobState.RUNNING)])
    >>> [m.job_id for m in tracker()]
    ['a1']
    """

    def __init__(self, source: Callable[[], Iterable[Job]] | None = None, *,
                 lookup: Callable[[str], Job | None] | None = None,
                 predict: Predictor | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._source, self._lookup, self._predict = source, lookup, predict
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}
        self._ended: list[Callable[[Job], object]] = []
        self._unit_listeners: Subscribers[JobMetrics] = Subscribers()
        self._unsubscribe: Callable[[], None] | None = None

    @classmethod
    def following(cls, manager: JobManager, *, predict: Predictor | None = None,
                  clock: Callable[[], float] = time.monotonic) -> JobTracker:
        """Track the jobs ``manager`` runs, from its events (no polling of the store).

        Jobs of other processes are left out: no event would ever say they moved, so they
        would look stuck.
        """
        tracker = cls(predict=predict, clock=clock)
        for job in manager.list(ACTIVE_STATES):
            if job.owner == manager.owner:
                tracker.observe(job)
        tracker._unsubscribe = manager.subscribe(tracker.on_event)
        return tracker

    def on_event(self, event: JobEvent) -> None:
        """A :class:`~seisproc.jobs.events.JobEvent` subscriber."""
        self.observe(event.job)
        if event.kind is JobEventKind.UNIT_COMPLETED:
            self._unit_done(event.job.id, event.detail.get("qc", ()))

    def on_unit(self, callback: Callable[[JobMetrics], object]) -> Callable[[], None]:
        """Call ``callback(metrics)`` each time a followed job completes a unit, with the
        job's metrics QC included (``AlertManager.check_job`` takes them); returns the
        function that stops the calls."""
        return self._unit_listeners.add(callback)

    def _unit_done(self, job_id: str, qc: Any) -> None:
        gathers = [GatherQc.from_dict(g) for g in qc]
        with self._lock:
            seen = self._seen.get(job_id)
            if seen is None:
                return
            seen.quality.add(gathers)
            metrics = _metrics(seen, self._clock())
        for callback in self._unit_listeners.current():
            try:
                callback(metrics)
            except Exception:
                log.exception("unit listener %r failed on job %s", callback, job_id)

    def on_ended(self, callback: Callable[[Job], object]) -> None:
        """Call ``callback(job)`` when a tracked job is seen finished (any terminal state,
        or INTERRUPTED): lets alert rules see polled jobs fail as if by event."""
        self._ended.append(callback)

    def observe(self, job: Job) -> None:
        """Record ``job``'s latest state now."""
        now = self._clock()
        with self._lock:
            seen = self._seen.get(job.id)
            if not job.state.is_active():
                self._seen.pop(job.id, None)
            elif seen is None:
                self._seen[job.id] = _Seen(job, now, now, self._predicted(job))
            else:
                if job.state is not JobState.RUNNING or seen.job.state is not JobState.RUNNING:
                    seen.moved_at = now  # paused or queued time is not stalled time
                    if job.state is JobState.RUNNING:
                        seen.running_since = now
                elif _progress_key(job) != _progress_key(seen.job):
                    seen.moved_at = now
                seen.job = job
        if seen is not None and not job.state.is_active():
            self._announce_end(job)

    def __call__(self) -> tuple[JobMetrics, ...]:
        """Poll the source (if any), then the metrics of every active job."""
        if self._source is not None:
            self._poll(self._source)
        now = self._clock()
        with self._lock:
            return tuple(_metrics(s, now) for s in self._seen.values())

    def _poll(self, source: Callable[[], Iterable[Job]]) -> None:
        jobs = list(source())
        for job in jobs:
            self.observe(job)
        listed = {j.id for j in jobs}
        with self._lock:
            gone = [s.job for i, s in self._seen.items() if i not in listed]
            for job in gone:
                del self._seen[job.id]
        for job in gone:
            final = self._lookup(job.id) if self._lookup else None
            if final is not None and not final.state.is_active():
                self._announce_end(final)

    def _announce_end(self, job: Job) -> None:
        for callback in list(self._ended):
            callback(job)

    def _predicted(self, job: Job) -> float | None:
        return self._predict(job) if self._predict is not None else None

    def close(self) -> None:
        """Stop following the manager (if :meth:`following` made this tracker)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def _metrics(seen: _Seen, now: float) -> JobMetrics:
    job, progress = seen.job, seen.job.progress
    running = job.state is JobState.RUNNING
    return JobMetrics(
        job_id=job.id, name=job.name, state=job.state.value, output=job.output,
        fraction=progress.fraction, traces_done=progress.traces_done,
        traces_total=progress.traces_total, traces_per_s=progress.traces_per_s,
        predicted_traces_per_s=seen.predicted,
        no_progress_seconds=max(0.0, now - seen.moved_at) if running else 0.0,
        running_seconds=max(0.0, now - seen.running_since) if running else 0.0,
        eta_s=progress.eta_s, qc_non_finite=seen.quality.non_finite,
        qc_dead_traces=seen.quality.dead_traces, qc_rms_last=seen.quality.rms_last,
        qc_dominant_hz_last=seen.quality.dominant_hz_last)
