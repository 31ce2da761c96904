"""Job leases in SQL: renew, take over, judge expiry, all by the database's clock.

A job's owner holds a lease that runs out at ``lease_expires`` (epoch seconds,
:class:`~seisproc.history.sql.db_epoch`) unless renewed; ``lease`` is the fencing token a
take-over raises. Each call here is one statement, run by
:class:`~seisproc.history.storage.JobHistoryStorage` inside a write transaction, so
concurrent callers on any number of hosts see one outcome: a conditional ``UPDATE``
re-checks its ``WHERE`` on the row it locks (PostgreSQL re-reads a row another
transaction changed meanwhile; SQLite runs writers one at a time).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, select, tuple_, update

from seisproc.history.changes import lock_revisions, next_revision
from seisproc.history.models import Base, JobRow, job_from_row
from seisproc.history.sql import db_epoch
from seisproc.jobs.model import Job, JobState

__all__ = ["lease_expired", "renew_leases", "take_over"]

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_TAKEABLE = [state.value for state in JobState
             if not state.is_terminal() or state is JobState.FAILED]
"""A job not yet ended (its owner may be gone), or a FAILED one, which a resume runs again
or a cancel gives up on; a job that completed or was cancelled has nothing left to own."""


def renew_leases(connection: Connection, leases: Mapping[str, int], ttl_s: float) -> list[str]:
    """Extend the leases whose stored token is the given one; the ids of the others."""
    if not leases:
        return []
    held = tuple_(_JOBS.c.id, _JOBS.c.lease).in_(sorted(leases.items()))
    renewed = connection.execute(update(_JOBS).where(held).values(
        lease_expires=db_epoch() + ttl_s).returning(_JOBS.c.id)).scalars().all()
    kept = set(renewed)
    return [job_id for job_id in leases if job_id not in kept]


def take_over(connection: Connection, job_id: str, owner: str, ttl_s: float, *,
              owner_dead: bool = False, expected_lease: int | None = None) -> Job | None:
    """Give the job to ``owner`` with the next token, if its lease ran out or
    ``owner_dead``; the job as it now is, or ``None``. A new owner is a change that
    readers of the change feed hear of."""
    lock_revisions(connection)
    where = (_JOBS.c.id == job_id) & _JOBS.c.state.in_(_TAKEABLE)
    if not owner_dead:
        where &= _JOBS.c.lease_expires.is_(None) | (_JOBS.c.lease_expires < db_epoch())
    if expected_lease is not None:
        where &= _JOBS.c.lease == expected_lease
    row = connection.execute(update(_JOBS).where(where).values(
        owner=owner, lease=_JOBS.c.lease + 1, lease_expires=db_epoch() + ttl_s,
        revision=next_revision(),
    ).returning(*_JOBS.columns)).first()
    return None if row is None else job_from_row(row._mapping)


def lease_expired(connection: Connection, job_id: str) -> bool:
    """Whether the job's lease has run out; ``True`` for an unknown job."""
    row = connection.execute(select(_JOBS.c.lease_expires, db_epoch())
                             .where(_JOBS.c.id == job_id)).first()
    return row is None or row[0] is None or row[0] < row[1]
