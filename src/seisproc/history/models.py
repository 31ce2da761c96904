"""The job history's tables: jobs, their transitions, control requests, resource samples.

A :class:`~seisproc.jobs.model.Job` is what the rest of seisproc exchanges; a
:class:`JobRow` is its flattened, queryable form, one column per progress and error
field, so analytics can filter and aggregate in SQL instead of unpacking JSON. The
schema changes only through an Alembic revision in ``migrations/versions``;
``tests/history`` checks that the revisions and these models agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Dialect,
    Double,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime

from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType
from seisproc.processing.flow import all_steps

__all__ = [
    "ANNOTATION_COLUMNS",
    "bytes_done",
    "Base",
    "ControlRequestRow",
    "JobEventRow",
    "JobRow",
    "ResourceSampleRow",
    "RevisionFloorRow",
    "UtcDateTime",
    "job_from_row",
    "job_to_row",
    "failure_reason",
    "processor_names",
    "processors_key",
]

ANNOTATION_COLUMNS = ("bytes_total", "predicted_traces_per_s", "predicted_duration_s",
                      "lease_expires")
"""Job columns that are not fields of a :class:`~seisproc.jobs.model.Job`: written once
(at the first save, or by ``record_prediction``; ``lease_expires`` by the lease calls)
and never overwritten by a later ``save_job``."""
PROCESSORS_SEPARATOR = "|"
REASON_CHARS = 60
"""Failures are grouped by the first 60 characters of their message once numbers are
masked (``gather ffid=#``): long enough to tell causes apart, short enough that a long
detail at the end does not split a group."""
_NUMBER = re.compile(r"\d+")
STATISTICS_INDEX = ("created_day", "type", "state", "processors_key", "duration_s",
                    "traces_done", "bytes_done", "predicted_duration_s")
"""Columns of the index the statistics' main scan reads instead of the table."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so later SQLite migrations (batch mode) can find them by name."""

JsonType = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere; JSONB on PostgreSQL so analytics can index into flows and tags."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC.

    SQLite has no time zone type: SQLAlchemy writes the wall-clock digits and drops the
    offset, so a ``+02:00`` time would come back two hours off and naive. Times are
    converted to UTC on the way in and marked UTC on the way out; PostgreSQL stores
    ``timestamptz``. A naive datetime is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: job times need a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the history tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class JobRow(Base):
    """One job as last saved: the whole :class:`~seisproc.jobs.model.Job`, flattened."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_created_at", "created_at"),
        Index("ix_jobs_type_created_at", "type", "created_at"),
        Index("ix_jobs_state_created_at", "state", "created_at"),
        Index("ix_jobs_processors_key_state_created_at", "processors_key", "state",
              "created_at"),
        # Covering indexes for statistics (see seisproc.history.aggregates): SQLite
        # aggregates a GROUP BY in one pass only when an index is in the group's order.
        Index("ix_jobs_statistics", *STATISTICS_INDEX),
        Index("ix_jobs_durations", "state", "type", "duration_s", "created_day"),
        Index("ix_jobs_failures", "state", "error_type", "error_reason", "created_at"),
        Index("ix_jobs_revision", "revision"),  # the change feed: rows after a cursor
        Index("ix_jobs_batch", "batch"),  # seisproc jobs --batch, the batch summary
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_day: Mapped[date | None] = mapped_column(Date)
    """The UTC day of ``created_at``: statistics group by day, and a stored, indexed day
    lets them do it in one ordered pass on every database. Always written; nullable only
    so that revision 0002 could add it to SQLite in place."""
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    units_done: Mapped[int]
    units_total: Mapped[int]
    traces_done: Mapped[int] = mapped_column(BigInteger)
    """Big: a large 3D survey holds more than 2**31 traces."""
    traces_total: Mapped[int] = mapped_column(BigInteger)
    traces_per_s: Mapped[float] = mapped_column(Double)
    eta_s: Mapped[float | None] = mapped_column(Double)
    message: Mapped[str] = mapped_column(Text)
    error_type: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_traceback: Mapped[str | None] = mapped_column(Text)
    error_gather: Mapped[str | None] = mapped_column(Text)
    error_reason: Mapped[str | None] = mapped_column(String(REASON_CHARS))
    """The error message as statistics group it: see :func:`failure_reason`."""
    flow: Mapped[dict[str, Any]] = mapped_column(JsonType)
    input: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    lease: Mapped[int] = mapped_column(BigInteger, server_default="0")
    """The fencing token (``Job.lease``): a save carrying a smaller one is refused."""
    lease_expires: Mapped[float | None] = mapped_column(Double)
    """When the owner's lease runs out unless renewed: epoch seconds by the *database's*
    clock (:class:`~seisproc.history.sql.db_epoch`); ``None`` (rows from before revision
    0004) counts as run out."""
    overwrite: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """Submitted with overwrite: the output may replace an existing file."""
    nodes: Mapped[list[str]] = mapped_column(JsonType)
    tags: Mapped[list[str]] = mapped_column(JsonType)
    processors: Mapped[list[str]] = mapped_column(JsonType)
    """Processor names of the flow's steps, in order (``["bandpass", "agc"]``), so
    analytics can count processor use without parsing flows."""
    processors_key: Mapped[str] = mapped_column(Text, server_default="")
    """The same names joined by ``|`` (``"bandpass|agc"``): one comparable, indexable value
    per processing sequence, for predictions (same sequence) and usage counts (GROUP BY
    it, then split the few distinct sequences)."""
    duration_s: Mapped[float | None] = mapped_column(Double)
    """Wall-clock seconds from start to finish (pauses included); ``None`` until the job
    ends. Stored so every database aggregates it alike, without date arithmetic."""
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)
    """Size of the input file when the job was first saved; ``None`` if it was not found."""
    bytes_done: Mapped[int | None] = mapped_column(BigInteger)
    """Bytes processed, estimated as ``bytes_total * traces_done // traces_total`` at each
    save: stored, so statistics sum a column instead of dividing per row."""
    predicted_traces_per_s: Mapped[float | None] = mapped_column(Double)
    """Processing rate predicted from history before the job started."""
    predicted_duration_s: Mapped[float | None] = mapped_column(Double)
    """Duration predicted from history before the job started."""
    revision: Mapped[int] = mapped_column(BigInteger, server_default="0")
    """The history's revision at the job's last change (a save, a take-over): one more
    than the highest before it. Readers ask for the jobs changed after a revision they
    saw (:mod:`seisproc.history.changes`). 0 for rows last written before revision 0005."""
    batch: Mapped[str] = mapped_column(String(64), server_default="")
    """The batch the job was submitted in (``Job.batch``); empty for a lone job and for
    jobs from before revision 0006."""
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonType, server_default="{}")
    """What makes the run reproducible (``Job.provenance``): versions, device, the
    input's identity; ``{}`` for jobs from before revision 0006."""
    waits_for: Mapped[list[str]] = mapped_column(JsonType, server_default="[]")
    """Ids of the jobs a WAITING job waits for (``Job.waits_for``); ``[]`` for the others
    and for jobs from before revision 0007."""


class JobEventRow(Base):
    """One state transition of a job, appended when a save changes its state."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    from_state: Mapped[str | None] = mapped_column(String(16))
    """``None`` for the job's first save."""
    to_state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)


class ControlRequestRow(Base):
    """A pause, resume or cancel asked for by one process, for the job's owner to take.

    No foreign key on ``job_id``: like the in-memory store, a request may name a job this
    database has not seen yet, and it is deleted when taken anyway.
    """

    __tablename__ = "control_requests"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message: Mapped[str] = mapped_column(Text, server_default="")
    """Why the asker wants it, for the owner to write on the job; empty for the owner's
    default (requests queued before revision 0003 have none)."""


class RevisionFloorRow(Base):
    """One row: the highest revision the history has given out as of its last cleanup.

    Cleanup may delete the job that holds the highest revision; the next change is
    numbered above this floor too, so no revision is given out twice
    (:mod:`seisproc.history.changes`).
    """

    __tablename__ = "revision_floor"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)


class ResourceSampleRow(Base):
    """Machine (or cluster) utilisation at one instant, as the resource monitor saw it."""

    __tablename__ = "resource_samples"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    cpu_percent: Mapped[float] = mapped_column(Double)
    memory_percent: Mapped[float] = mapped_column(Double)
    gpu_percent: Mapped[float | None] = mapped_column(Double)
    """``None`` on a machine without a GPU (or without a way to read it)."""
    disk_read_mb_s: Mapped[float] = mapped_column(Double)
    disk_write_mb_s: Mapped[float] = mapped_column(Double)
    running_jobs: Mapped[int]


def bytes_done(bytes_total: int | None, progress: JobProgress) -> int | None:
    """Bytes of the input processed so far, pro rata of the traces done.

    >>> bytes_done(1000, JobProgress(traces_done=50, traces_total=100))
    500
    """
    if bytes_total is None or progress.traces_total <= 0:
        return None
    return bytes_total * progress.traces_done // progress.traces_total


def failure_reason(message: str) -> str:
    """The start of an error message with every number as ``#``: failures that differ
    only in the gather, trace or unit they name share a reason.

    >>> failure_reason("shots.sgy: gather ffid=1006, step 2 (agc): ValueError: NaN")
    'shots.sgy: gather ffid=#, step # (agc): ValueError: NaN'
    """
    return _NUMBER.sub("#", message)[:REASON_CHARS]


def processors_key(names: list[str]) -> str:
    """The processor sequence as one string, the value of the ``processors_key`` column.

    >>> processors_key(["bandpass", "agc"])
    'bandpass|agc'
    """
    return PROCESSORS_SEPARATOR.join(names)


def processor_names(flow: Mapping[str, Any]) -> list[str]:
    """Names of the processors in a flow mapping's steps, in order.

    Steps are one-key mappings (``{"agc": {"window_ms": 500}}``) as
    :meth:`seisproc.processing.flow.Flow.to_mapping` writes them; a bare name counts too.

    >>> processor_names({"steps": [{"bandpass": {"low_hz": 5}}, {"agc": {}}]})
    ['bandpass', 'agc']
    """
    names: list[str] = []
    for step in all_steps(flow):
        if isinstance(step, Mapping):
            names.extend(str(key) for key in step)
        elif isinstance(step, str):
            names.append(step)
    return names


def job_to_row(job: Job) -> dict[str, Any]:
    """Column values of ``job``'s row (the ``jobs`` table's column names as keys), without
    the :data:`ANNOTATION_COLUMNS`."""
    progress, error, names = job.progress, job.error, processor_names(job.flow)
    return {
        "id": job.id, "name": job.name, "type": job.type.value, "state": job.state.value,
        "priority": job.priority, "created_at": job.created_at,
        "created_day": job.created_at.astimezone(UTC).date(), "started_at": job.started_at,
        "finished_at": job.finished_at, "updated_at": job.updated_at,
        "units_done": progress.units_done, "units_total": progress.units_total,
        "traces_done": progress.traces_done, "traces_total": progress.traces_total,
        "traces_per_s": progress.traces_per_s, "eta_s": progress.eta_s,
        "message": job.message,
        "error_type": error.type if error else None,
        "error_message": error.message if error else None,
        "error_traceback": error.traceback if error else None,
        "error_gather": error.gather if error else None,
        "error_reason": failure_reason(error.message) if error else None,
        "flow": job.flow, "input": job.input, "output": job.output, "owner": job.owner,
        "lease": job.lease, "overwrite": job.overwrite,
        "nodes": list(job.nodes), "tags": list(job.tags),
        "processors": names, "processors_key": processors_key(names),
        "duration_s": job.duration_s if job.finished_at is not None else None,
        "batch": job.batch, "provenance": job.provenance, "waits_for": list(job.waits_for),
    }


def job_from_row(row: Mapping[Any, Any]) -> Job:
    """The :class:`~seisproc.jobs.model.Job` a ``jobs`` row holds (inverse of
    :func:`job_to_row`)."""
    error = None
    if row["error_type"] is not None:
        error = JobError(type=row["error_type"], message=row["error_message"] or "",
                         traceback=row["error_traceback"] or "", gather=row["error_gather"])
    progress = JobProgress(
        units_done=row["units_done"], units_total=row["units_total"],
        traces_done=row["traces_done"], traces_total=row["traces_total"],
        traces_per_s=row["traces_per_s"], eta_s=row["eta_s"])
    return Job(
        id=row["id"], name=row["name"], type=JobType(row["type"]), state=JobState(row["state"]),
        priority=row["priority"], created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], updated_at=row["updated_at"], progress=progress,
        message=row["message"], error=error, flow=row["flow"] or {}, input=row["input"],
        output=row["output"], owner=row["owner"], lease=row["lease"],
        overwrite=bool(row["overwrite"]), nodes=tuple(row["nodes"] or ()),
        tags=tuple(row["tags"] or ()), batch=row["batch"] or "",
        provenance=row["provenance"] or {}, waits_for=tuple(row["waits_for"] or ()))
