"""The job record: what a job is, where it stands, how far it got, how it failed.

Records are immutable dataclasses changed with :func:`dataclasses.replace` (transitions
go through :func:`seisproc.jobs.transitions.transition`); they convert to and from plain
dicts so any store, the CLI's ``--json`` and the GUI see the same fields.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = ["JobState", "JobType", "JobProgress", "JobError", "Job", "new_job_id", "utcnow"]


class JobState(StrEnum):
    """Life-cycle states; see DESIGN.md for the allowed moves."""

    QUEUED = "QUEUED"
    WAITING = "WAITING"
    """Waits for other jobs to end well (``--after``, a pipeline): holds no slot."""
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"

    def is_terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)

    def is_active(self) -> bool:
        """Queued, waiting, running, paused or cancelling: owned by a live process."""
        return self in (JobState.QUEUED, JobState.WAITING, JobState.RUNNING, JobState.PAUSED,
                        JobState.CANCELLING)


class JobType(StrEnum):
    PROCESSING = "PROCESSING"
    INDEX = "INDEX"
    EXPORT = "EXPORT"
    QC = "QC"


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_job_id() -> str:
    """Short, unique, typeable: 12 hex digits."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class JobProgress:
    """How far a job got, in units of work and in traces."""

    units_done: int = 0
    """Units whose traces are written and checkpointed."""
    units_total: int = 0
    traces_done: int = 0
    traces_total: int = 0
    traces_per_s: float = 0.0
    """Recent processing rate (a smoothed average over the last units)."""
    eta_s: float | None = None
    """Seconds left at the recent rate; ``None`` before a rate is known."""

    @property
    def fraction(self) -> float:
        if self.traces_total:
            return self.traces_done / self.traces_total
        return self.units_done / self.units_total if self.units_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "fraction": self.fraction}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobProgress:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class JobError:
    """Why a job failed."""

    type: str
    """Exception class name, e.g. ``ProcessingError``."""
    message: str
    traceback: str = ""
    gather: str | None = None
    """The gather being processed, e.g. ``ffid=1003``, when the data caused the error."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobError:
        return cls(**data)


@dataclass(frozen=True)
class Job:
    """One processing job, as the driver knows it."""

    id: str
    name: str
    type: JobType = JobType.PROCESSING
    state: JobState = JobState.QUEUED
    priority: int = 0
    """Higher starts first among queued jobs; running jobs share the workers round robin."""
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime = field(default_factory=utcnow)
    progress: JobProgress = field(default_factory=JobProgress)
    message: str = ""
    """Last human-readable note: why it paused, was interrupted, what it is doing."""
    error: JobError | None = None
    flow: dict[str, Any] = field(default_factory=dict)
    """The validated flow as a mapping (absolute paths)."""
    input: str = ""
    output: str = ""
    owner: str = ""
    """``host:pid`` of the process whose JobManager runs the job."""
    lease: int = 0
    """Fencing token: raised by one each time a process takes the job over; the store
    refuses saves that carry an older one (``JobStore.take_over``, ``StaleOwner``)."""
    overwrite: bool = False
    """The job was submitted with overwrite: only then may its output replace an existing
    file, also when resumed."""
    nodes: tuple[str, ...] = ()
    """Ray nodes (or hosts) that executed at least one unit."""
    tags: tuple[str, ...] = ()
    batch: str = ""
    """The batch it was submitted in (``seisproc run --each``), shared by its siblings;
    empty for a job submitted alone."""
    waits_for: tuple[str, ...] = ()
    """Jobs that must end well before this one starts (``seisproc run --after``, a
    pipeline's earlier flows): it is WAITING until then (:mod:`seisproc.jobs.dependencies`)."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """What makes the run reproducible, recorded at submission: package versions, the
    device, the input's identity (:mod:`seisproc.production.provenance`); empty for jobs
    submitted without one (before it was recorded)."""

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return (end - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data.update(
            type=self.type.value, state=self.state.value,
            progress=self.progress.to_dict(),
            error=self.error.to_dict() if self.error else None,
            nodes=list(self.nodes), tags=list(self.tags), waits_for=list(self.waits_for),
            duration_s=self.duration_s,
        )
        for key in ("created_at", "started_at", "finished_at", "updated_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["type"] = JobType(values.get("type", JobType.PROCESSING))
        values["state"] = JobState(values.get("state", JobState.QUEUED))
        values["progress"] = JobProgress.from_dict(values.get("progress") or {})
        values["error"] = JobError.from_dict(values["error"]) if values.get("error") else None
        values["nodes"] = tuple(values.get("nodes") or ())
        values["tags"] = tuple(values.get("tags") or ())
        values["waits_for"] = tuple(values.get("waits_for") or ())
        for key in ("created_at", "started_at", "finished_at", "updated_at"):
            if isinstance(values.get(key), str):
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)
