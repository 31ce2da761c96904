"""Filtered job listings and history cleanup, as SQL the indexes of revision 0002 serve.

``query`` pages through the history newest first; each filter narrows with an indexed
column where one exists (type, state and creation time), and text search is a
case-insensitive substring match over the fields a user remembers a job by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, or_, select

from seisproc.history.changes import remember_highest
from seisproc.history.models import (
    Base,
    ControlRequestRow,
    JobEventRow,
    JobRow,
    ResourceSampleRow,
)
from seisproc.jobs.model import JobState, JobType

__all__ = ["CLEANUP_BATCH", "JobFilter", "delete_before", "delete_samples_before"]

CLEANUP_BATCH = 2_000
"""Jobs deleted per transaction: each batch holds the write lock for milliseconds, so a
running JobManager's saves interleave with a large cleanup instead of waiting for it."""

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_EVENTS = Base.metadata.tables[JobEventRow.__tablename__]
_REQUESTS = Base.metadata.tables[ControlRequestRow.__tablename__]
_SAMPLES = Base.metadata.tables[ResourceSampleRow.__tablename__]
_TERMINAL = [state.value for state in JobState if state.is_terminal()]
_SEARCHED = ("id", "name", "message", "error_type", "error_message", "input", "output")


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a history query returns; ``None`` (or empty text) means no filter.

    Times bound ``created_at``: ``date_from`` inclusive, ``date_to`` exclusive.
    """

    job_types: Sequence[JobType] | None = None
    states: Sequence[JobState] | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    text: str | None = None
    """Case-insensitive substring of the id, name, message, error, input or output."""
    batch: str | None = None
    """The jobs of this batch (``Job.batch``, exact), by its index."""

    def conditions(self) -> list[ColumnElement[bool]]:
        jobs = _JOBS.c
        out: list[ColumnElement[bool]] = []
        if self.job_types is not None:
            out.append(jobs.type.in_([JobType(t).value for t in self.job_types]))
        if self.states is not None:
            out.append(jobs.state.in_([JobState(s).value for s in self.states]))
        if self.date_from is not None:
            out.append(jobs.created_at >= self.date_from)
        if self.date_to is not None:
            out.append(jobs.created_at < self.date_to)
        if self.batch:
            out.append(jobs.batch == self.batch)
        if self.text:
            out.append(or_(*(jobs[name].icontains(self.text, autoescape=True)
                             for name in _SEARCHED)))
        return out

    def select(self, limit: int | None = None, offset: int = 0) -> Select[Any]:
        """The jobs' rows, newest first, ``limit`` of them after skipping ``offset``."""
        query = (select(_JOBS).where(*self.conditions())
                 .order_by(_JOBS.c.created_at.desc(), _JOBS.c.id.desc()))
        if limit is not None:
            query = query.limit(max(limit, 0))
        return query.offset(offset) if offset > 0 else query


def delete_before(connection: Connection, cutoff: datetime) -> int:
    """Delete one batch of ended jobs created before ``cutoff``, with their transition
    log and stale control requests; returns how many jobs (0 when none are left).

    The history's highest revision is remembered first: it may be a deleted job's, and
    is never given out again (:mod:`seisproc.history.changes`)."""
    ids = list(connection.execute(
        select(_JOBS.c.id).where(_JOBS.c.state.in_(_TERMINAL), _JOBS.c.created_at < cutoff)
        .limit(CLEANUP_BATCH)).scalars())
    if not ids:
        return 0
    remember_highest(connection)
    connection.execute(delete(_EVENTS).where(_EVENTS.c.job_id.in_(ids)))
    connection.execute(delete(_REQUESTS).where(_REQUESTS.c.job_id.in_(ids)))
    connection.execute(delete(_JOBS).where(_JOBS.c.id.in_(ids)))
    return len(ids)


def delete_samples_before(connection: Connection, cutoff: datetime) -> int:
    """Delete resource samples taken before ``cutoff``; returns how many."""
    return int(connection.execute(delete(_SAMPLES).where(_SAMPLES.c.at < cutoff)).rowcount)
