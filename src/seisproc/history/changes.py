"""The change feed: which jobs changed after a revision a reader last saw.

Every change of a job (a save, a take-over) writes the history's next revision on the
job's row, inside the changing transaction, while it holds the lock that serializes such
changes: SQLite's write lock (every write transaction takes it first), a
transaction-level advisory lock on PostgreSQL (:func:`lock_revisions`). Revisions
therefore commit in the order they are given out: a reader that has seen revision *n*
has seen every change up to *n*, and ``revision > n`` on the indexed column finds the
rest, an index seek with a million jobs as with ten. A time column could not do that:
the clocks of two hosts disagree, and a save stamped earlier may commit later.

The next revision is one more than the highest, ``MAX(jobs.revision)`` (the last entry
of the index) or the ``revision_floor`` that cleanup raises before it deletes jobs, so a
number is never given out twice. A save pays for two index lookups, no extra write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, select, update

from seisproc.history.models import Base, JobRow, RevisionFloorRow
from seisproc.jobs.model import Job

__all__ = ["JobChanges", "latest_revision", "lock_revisions", "next_revision",
           "remember_highest", "select_changes"]

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_FLOOR = Base.metadata.tables[RevisionFloorRow.__tablename__]
_POSTGRES_LOCK_KEY = 0x5E15_0002
"""``pg_advisory_xact_lock`` key that serializes changes of jobs on PostgreSQL (migrations
use ``0x5E15_0001``)."""


@dataclass(frozen=True)
class JobChanges:
    """Jobs changed after a revision, and the revision to ask from next time."""

    jobs: list[Job]
    """Each changed job once, as last saved, in the order of their last changes."""
    revision: int
    """The revision of the last change read: the next call's ``revision``."""
    more: bool = False
    """``True`` when ``limit`` cut the answer short: ask again at once for the rest."""


def lock_revisions(connection: Connection) -> None:
    """Call first in a transaction that changes or deletes jobs: on PostgreSQL, wait for
    the changes committing before it (SQLite's write transactions are serial already)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_POSTGRES_LOCK_KEY})")


def _highest() -> ColumnElement[Any]:
    in_jobs = select(func.coalesce(func.max(_JOBS.c.revision), 0)).scalar_subquery()
    floor = select(func.coalesce(func.max(_FLOOR.c.revision), 0)).scalar_subquery()
    return case((in_jobs > floor, in_jobs), else_=floor)


_HIGHEST = _highest()  # expressions are immutable: built once, shared by every statement
_NEXT = _HIGHEST + 1


def next_revision() -> ColumnElement[Any]:
    """The revision a change writes on its job's row: a subquery of the changing
    statement, evaluated under :func:`lock_revisions`."""
    return _NEXT


def remember_highest(connection: Connection) -> None:
    """Raise the floor to the highest revision, before deleting jobs that may hold it."""
    connection.execute(update(_FLOOR).values(revision=_HIGHEST))


def latest_revision(connection: Connection) -> int:
    """The revision of the latest committed change (0 for a history never changed)."""
    return int(connection.execute(select(_HIGHEST)).scalar_one())


def select_changes(connection: Connection, after: int,
                   limit: int) -> tuple[Sequence[Any], int]:
    """Rows of the jobs changed after revision ``after``, oldest change first, at most
    ``limit``; and the revision of the last one (``after`` when none)."""
    rows = connection.execute(
        select(_JOBS).where(_JOBS.c.revision > after)
        .order_by(_JOBS.c.revision).limit(limit)).all()
    return rows, int(rows[-1].revision) if rows else after
