"""The two ports the job engine needs and adapters provide.

``JobStore`` is implemented by ``seisproc.history`` (SQLAlchemy; SQLite by default,
PostgreSQL by URL) and by :class:`seisproc.jobs.memory.MemoryJobStore` for unit tests.
``Executor`` is implemented by ``seisproc.orchestration`` (Ray actors) and by
:class:`seisproc.jobs.memory.ThreadExecutor` for unit tests of scheduling logic. The
engine depends on these protocols only, never on the adapters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from seisproc.jobs.model import Job, JobState
from seisproc.jobs.units import UnitResult, WorkUnit
from seisproc.processing.flow import Flow

__all__ = [
    "JobStore",
    "Executor",
    "JobSpec",
    "Completion",
    "ControlRequest",
    "DurationPredictor",
]


@dataclass(frozen=True)
class ControlRequest:
    """A pause, resume or cancel asked for by another process (another terminal)."""

    job_id: str
    action: str
    """``"pause"``, ``"resume"`` or ``"cancel"``."""
    message: str = ""
    """Why, in the asker's words (``"paused by alert qc_non_finite: …"``), for the owner to
    write on the job; empty for the owner's default (``"paused by user"``)."""


@runtime_checkable
class JobStore(Protocol):
    """Durable job records. Every call is atomic; safe from several threads."""

    def save_job(self, job: Job) -> None:
        """Insert or replace ``job`` (by id); durable when this returns."""

    def get_job(self, job_id: str) -> Job | None:
        """The job with this id, or one whose id starts with ``job_id`` if unique."""

    def get_recent(self, limit: int = 50) -> list[Job]:
        """Most recently created first."""

    def list_jobs(self, states: Sequence[JobState] | None = None) -> list[Job]:
        """Jobs in any of ``states`` (all when ``None``), most recent first."""

    def request_control(self, job_id: str, action: str, message: str = "") -> None:
        """Record a control request for the process that owns the job; ``message`` is
        the reason its owner writes on the job (its default when empty)."""

    def take_control_requests(self, job_ids: Sequence[str]) -> list[ControlRequest]:
        """Pending requests for these jobs, removed from the store as they are taken."""


@dataclass(frozen=True)
class JobSpec:
    """What a worker needs to run units of one job."""

    job_id: str
    flow: Flow
    partial_path: str
    output_layout: object
    """A :class:`seisproc.io.segy.SegyLayout`."""


@dataclass(frozen=True)
class Completion:
    """The outcome of one dispatched unit."""

    job_id: str
    unit: WorkUnit
    result: UnitResult | None = None
    """Set when the unit was processed; ``None`` when it was dropped on request."""
    error: BaseException | None = None
    """The processing error (the job fails) when not ``None``."""
    worker_lost: bool = False
    """The worker died with the unit in flight; the unit should be retried elsewhere."""
    node: str = ""
    traceback: str = ""


@runtime_checkable
class Executor(Protocol):
    """Runs units of work somewhere, a bounded number at a time."""

    def capacity(self) -> int:
        """How many units may be in flight at once (back-pressure)."""

    def submit(self, spec: JobSpec, unit: WorkUnit) -> None:
        """Start ``unit``; its outcome comes back from :meth:`wait`."""

    def wait(self, timeout_s: float) -> list[Completion]:
        """Outcomes that arrived, waiting at most ``timeout_s`` for the first."""

    def in_flight(self) -> int:
        """Units submitted whose completion has not been returned by :meth:`wait`."""

    def stop_job(self, job_id: str) -> None:
        """Ask workers to drop this job's in-flight units between gathers."""

    def release_job(self, job_id: str) -> None:
        """The job is over: workers may close its files."""

    def shutdown(self) -> None:
        """Stop the workers (the cluster itself is left as found)."""


@runtime_checkable
class DurationPredictor(Protocol):
    """A store that can estimate a job from history (the SQL history does)."""

    def predict(self, processors: Sequence[str], traces_total: int) -> Any:
        """Estimated duration and traces/s for these processors on this many traces."""

    def record_prediction(self, job_id: str, prediction: Any) -> bool:
        """Keep the estimate beside the job, so analytics can compare it with the actual."""
