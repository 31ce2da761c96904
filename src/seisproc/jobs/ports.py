"""The two ports the job engine needs and adapters provide.

``JobStore`` is implemented by ``seisproc.history`` (SQLAlchemy; SQLite by default,
PostgreSQL by URL) and by :class:`seisproc.jobs.memory.MemoryJobStore` for unit tests.
``Executor`` is implemented by ``seisproc.orchestration`` (Ray actors) and by
:class:`seisproc.jobs.memory.ThreadExecutor` for unit tests of scheduling logic. The
engine depends on these protocols only, never on the adapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from seisproc.errors import SeisprocError
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.units import UnitResult, WorkUnit
from seisproc.processing.flow import Flow

__all__ = [
    "JobStore",
    "Executor",
    "JobSpec",
    "Completion",
    "ControlRequest",
    "HeaderScanner",
    "DurationPredictor",
    "StaleOwner",
]


class StaleOwner(SeisprocError):
    """A save by a process that no longer owns the job: another process took it over
    (its lease ran out, or its process was found dead) and raised the fencing token
    (``Job.lease``). The stale process must stop writing the job and its output."""


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
        """Insert or replace ``job`` (by id); durable when this returns.

        Raises :class:`StaleOwner`, leaving the stored job as it was, when the stored
        ``lease`` is newer than ``job.lease``. A new job's lease runs for
        :data:`~seisproc.jobs.owner.LEASE_TTL_S` from its first save.
        """

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

    # Ownership is a lease with a fencing token; "now" is always the store's clock (the
    # database's), never the caller's, so hosts with skewed clocks agree on expiry.
    def renew_leases(self, leases: Mapping[str, int], ttl_s: float) -> list[str]:
        """Extend by ``ttl_s`` seconds from now each job's lease whose token is still the
        one given (``{job_id: token}``), in one transaction; returns the ids whose lease
        is lost (another token is stored, or the job is gone)."""

    def take_over(self, job_id: str, owner: str, ttl_s: float, *, owner_dead: bool = False,
                  expected_lease: int | None = None) -> Job | None:
        """Make ``owner`` the job's owner with a new token (``lease + 1``) and a lease of
        ``ttl_s`` seconds, if its lease has run out or ``owner_dead`` (the caller saw the
        owner's pid gone on the same host); ``None`` while a live owner holds it, or when
        the job is unknown or has ended. Atomic: of several callers, one wins.

        ``expected_lease``: take it only if the stored token is still this one, the one
        read with the owner found dead (else a live owner who took over meanwhile would
        lose the job)."""

    def lease_expired(self, job_id: str) -> bool:
        """Whether the job's lease has run out (``True`` for an unknown job)."""


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
class HeaderScanner(Protocol):
    """An executor whose workers can read a header column (the Ray executor's can): the
    gather index of a large survey is then scanned by every worker, not by the driver."""

    def scan_headers(self, path: Path, key: str, n_traces: int
                     ) -> Iterable[tuple[int, np.ndarray]]:
        """Header ``key`` of the ``n_traces`` traces of ``path``, read on the workers a
        range each (:func:`seisproc.io.scan.read_header_range`): ``(first trace, int32
        column)`` per range as each arrives, in any order."""


@runtime_checkable
class DurationPredictor(Protocol):
    """A store that can estimate a job from history (the SQL history does)."""

    def predict(self, processors: Sequence[str], traces_total: int) -> Any:
        """Estimated duration and traces/s for these processors on this many traces."""

    def record_prediction(self, job_id: str, prediction: Any) -> bool:
        """Keep the estimate beside the job, so analytics can compare it with the actual."""
