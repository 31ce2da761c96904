"""Bookkeeping of one running job on the driver: pending units, in flight, done, rate.

Pure data structure, no threads and no I/O: the scheduler
(:mod:`seisproc.jobs.scheduler`) owns one per planned job and decides everything from it.
It costs the same for ten units as for a million: the units not yet handed out are a
cursor into the plan's lazy :class:`~seisproc.jobs.plan.UnitCut` (made one at a time as
the executor has room), the done units a bitmap (:class:`~seisproc.jobs.checkpoints.
UnitSet`), and only units handed back (a refused submit, a lost worker) are held as
objects, first in line.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from seisproc.jobs.checkpoints import UnitSet
from seisproc.jobs.model import JobProgress
from seisproc.jobs.plan import JobPlan
from seisproc.jobs.ports import JobSpec
from seisproc.jobs.staging import StageProgress
from seisproc.jobs.units import UnitResult, WorkUnit

__all__ = ["JobRun"]


@dataclass
class JobRun:
    """Driver-side state of a started job."""

    spec: JobSpec
    plan: JobPlan
    done: UnitSet
    cursor: int = 0
    """The next unit number of the plan to hand out (units already done are skipped)."""
    again: deque[WorkUnit] = field(default_factory=deque)
    """Units handed back, dispatched before the cursor moves on."""
    in_flight: int = 0
    retries: dict[int, int] = field(default_factory=dict)
    traces_done: int = 0
    started_monotonic: float = field(default_factory=time.monotonic)
    traces_at_start: int = 0
    persisted_at: float = 0.0
    """Monotonic time progress was last written to the store (it is throttled)."""
    unsaved: bool = False
    """Progress was announced that the store does not have yet."""
    committing: bool = False
    """Every unit is done and the output is being renamed into place."""
    keep_partial: bool = False
    """The commit found the output's name taken: the partial output is kept (the job's
    message says where) instead of being removed with the job's files."""
    fingerprint: object = None
    """The :class:`~seisproc.jobs.fingerprint.PlanFingerprint` its checkpoint is bound to."""
    stage: StageProgress = field(default_factory=StageProgress)
    """Which stage of the flow this run is, and the others' size (for the progress)."""

    @classmethod
    def start(cls, spec: JobSpec, plan: JobPlan, done: UnitSet,
              fingerprint: object = None, stage: StageProgress | None = None) -> JobRun:
        done = done.below(len(plan.units))
        traces = plan.units.n_traces_of(done.numbers())
        run = cls(spec, plan, done, traces_done=traces, traces_at_start=traces,
                  fingerprint=fingerprint, stage=stage or StageProgress())
        run._skip_done()
        return run

    @property
    def pending(self) -> bool:
        """Whether a unit is waiting to be handed out."""
        return bool(self.again) or self.cursor < len(self.plan.units)

    def take(self) -> WorkUnit:
        """The next unit to dispatch, now counted in flight."""
        if self.again:
            unit = self.again.popleft()
        else:
            unit = self.plan.units[self.cursor]
            self.cursor += 1
            self._skip_done()
        self.in_flight += 1
        return unit

    def _skip_done(self) -> None:
        n_units = len(self.plan.units)
        while self.cursor < n_units and self.cursor in self.done:
            self.cursor += 1

    def untake(self, unit: WorkUnit) -> None:
        """The executor refused ``unit``: it goes first in line again, never in flight."""
        self.in_flight -= 1
        self.again.appendleft(unit)

    def landed(self) -> None:
        """A unit came back, whatever its outcome: it is no longer in flight."""
        self.in_flight -= 1

    def give_back(self, unit: WorkUnit) -> int:
        """A unit whose worker died goes first in line again; returns its retry count."""
        self.retries[unit.number] = self.retries.get(unit.number, 0) + 1
        self.again.appendleft(unit)
        return self.retries[unit.number]

    def keep(self, unit: WorkUnit, result: UnitResult) -> bool:
        """Count a unit processed; True when it is newly done (not a redone one)."""
        if not self.done.add(unit.number):
            return False
        self.traces_done += result.traces
        return True

    def stop(self) -> None:
        """Nothing more is dispatched: the job is stopping or over."""
        self.again.clear()
        self.cursor = len(self.plan.units)

    @property
    def last_stage(self) -> bool:
        """Whether finishing this run finishes the job (else the next stage starts)."""
        return self.stage.stage == self.stage.n_stages

    @property
    def finished(self) -> bool:
        return not self.pending and self.in_flight == 0 and len(self.done) == len(self.plan.units)

    @property
    def drained(self) -> bool:
        return self.in_flight == 0

    def progress(self) -> JobProgress:
        """The whole job's progress: every stage's units and traces (this one's alone
        for a one-stage job); the rate is this run's."""
        elapsed = time.monotonic() - self.started_monotonic
        fresh = self.traces_done - self.traces_at_start
        rate = fresh / elapsed if elapsed > 0 and fresh else 0.0
        stage = self.stage
        units_total = stage.units_total if stage.units_total is not None else len(self.plan.units)
        traces_total = (stage.traces_total if stage.traces_total is not None
                        else self.plan.n_traces)
        done = stage.traces_before + self.traces_done
        left = max(traces_total - done, 0)
        return JobProgress(
            units_done=stage.units_before + len(self.done), units_total=units_total,
            traces_done=done, traces_total=traces_total,
            traces_per_s=rate, eta_s=left / rate if rate else None,
        )
