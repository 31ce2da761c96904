"""The durable :class:`~seisproc.jobs.ports.JobStore`: SQLite by default, PostgreSQL by URL.

Every job the JobManager runs is saved here at each transition and progress update, so
``seisproc jobs`` in another terminal, the GUI and the analytics all read one history, and
a crash loses nothing already announced. Calls use short transactions on pooled
connections (SQLAlchemy Core: ``save_job`` runs for every progress update and must stay
well under a few milliseconds), so one instance is shared by all threads of a process and
any number of processes may open the same database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Executable, delete, func, insert, make_url, select
from sqlalchemy.dialects import postgresql, sqlite

from seisproc.errors import SeisprocError
from seisproc.history import leases as lease_sql
from seisproc.history import predictions
from seisproc.history.aggregates import compute_statistics
from seisproc.history.changes import (
    JobChanges,
    latest_revision,
    lock_revisions,
    next_revision,
    select_changes,
)
from seisproc.history.engine import create_history_engine, default_database_url, writer
from seisproc.history.migrate import upgrade_to_head
from seisproc.history.models import (
    ANNOTATION_COLUMNS,
    Base,
    ControlRequestRow,
    JobEventRow,
    JobRow,
    bytes_done,
    job_from_row,
    job_to_row,
    processor_names,
)
from seisproc.history.predictions import Prediction, PredictionPair
from seisproc.history.queries import JobFilter, delete_before, delete_samples_before
from seisproc.history.resources import ResourceSample, insert_samples, select_samples
from seisproc.history.sql import db_epoch
from seisproc.history.statistics import JobStatistics
from seisproc.jobs.model import Job, JobState, JobType, utcnow
from seisproc.jobs.owner import LEASE_TTL_S
from seisproc.jobs.ports import ControlRequest, StaleOwner

__all__ = ["JobHistoryStorage", "DamagedRecord"]

log = logging.getLogger(__name__)

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_EVENTS = Base.metadata.tables[JobEventRow.__tablename__]
_REQUESTS = Base.metadata.tables[ControlRequestRow.__tablename__]


class JobHistoryStorage:
    """Job records, their transition log, control requests and resource samples in a SQL
    database; history queries, statistics, duration predictions and cleanup on top.

    Parameters
    ----------
    url
        A SQLAlchemy URL (``sqlite:///path/history.db``,
        ``postgresql+psycopg://host/db``). Default: ``$SEISPROC_DATABASE_URL``, else
        ``<seisproc home>/job_history.db``. The schema is created or upgraded to this
        version's on first use.

    Examples
    --------
    >>> import tempfile
    >>> from seisproc.jobs.model import Job
    >>> store = JobHistoryStorage(f"sqlite:///{tempfile.mkdtemp()}/history.db")
    >>> store.save_job(Job(id="a1b2c3d4e5f6", name="demo"))
    >>> store.get_job("a1b2").name
    'demo'
    >>> [e["to_state"].value for e in store.job_events("a1b2c3d4e5f6")]
    ['QUEUED']
    >>> store.close()
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_database_url()
        self._engine = create_history_engine(self.url)
        self._writer = writer(self._engine)
        self._upsert = _upsert_statement(self._engine.dialect.name)
        try:
            upgrade_to_head(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for read-only queries (statistics, reports)."""
        return self._engine

    def __repr__(self) -> str:
        shown = make_url(self.url).render_as_string(hide_password=True)
        return f"{type(self).__name__}({shown!r})"

    # --- JobStore -------------------------------------------------------------------
    def save_job(self, job: Job) -> None:
        """Insert or replace ``job`` by id, logging a transition if its state changed.

        One transaction: the row and its transition land together or not at all, and
        the previous state is read under the write lock, so two processes saving the
        same job cannot both log one transition. The first save also records the input
        file's size, from which analytics estimate the bytes processed, and starts the
        owner's lease (:data:`~seisproc.jobs.owner.LEASE_TTL_S`, database clock). Every
        save raises the history's revision (:meth:`changes_since`).

        Raises
        ------
        StaleOwner
            The stored job carries a newer lease than ``job``: another process took it
            over. Nothing is written.
        """
        with self._writer.begin() as connection:
            lock_revisions(connection)
            previous = connection.execute(
                select(_JOBS.c.state, _JOBS.c.bytes_total, _JOBS.c.lease, _JOBS.c.owner)
                .where(_JOBS.c.id == job.id).with_for_update()).first()
            if previous is not None and previous.lease > job.lease:
                raise StaleOwner(
                    f"job {job.id}: this process ({job.owner}) no longer owns it: "
                    f"{previous.owner} took it over; its writes are refused")
            row = job_to_row(job)
            if previous is None:
                row["bytes_total"] = size = _file_size(job.input)
            else:
                size = previous.bytes_total
            row["bytes_done"] = bytes_done(size, job.progress)
            connection.execute(self._upsert, row)
            from_state = None if previous is None else previous.state
            if from_state != job.state.value:
                connection.execute(insert(_EVENTS), {
                    "job_id": job.id, "at": job.updated_at, "from_state": from_state,
                    "to_state": job.state.value, "message": job.message})

    def get_job(self, job_id: str) -> Job | None:
        """The job with this id, else the only one whose id starts with ``job_id``.

        ``None`` when no id matches or several start with ``job_id`` (ambiguous). The
        prefix match is case-sensitive on every database (SQLite's ``LIKE`` is not).
        """
        by_prefix = (_JOBS.c.id.startswith(job_id, autoescape=True)
                     & (func.substr(_JOBS.c.id, 1, len(job_id)) == job_id))
        with self._engine.connect() as connection:
            exact = connection.execute(select(_JOBS).where(_JOBS.c.id == job_id)).first()
            if exact is not None:
                return _readable(exact._mapping)
            rows = connection.execute(select(_JOBS).where(by_prefix).limit(2)).all()
        return _readable(rows[0]._mapping) if len(rows) == 1 else None

    def get_recent(self, limit: int = 50) -> list[Job]:
        """The ``limit`` most recently created jobs, newest first."""
        return self._select_jobs(None, limit)

    def list_jobs(self, states: Sequence[JobState] | None = None) -> list[Job]:
        """Jobs in any of ``states`` (all when ``None``), newest first."""
        return self._select_jobs(states, None)

    def request_control(self, job_id: str, action: str, message: str = "") -> None:
        """Queue ``action`` (pause, resume, cancel) for the process that owns the job,
        with ``message``, the reason that process writes on the job."""
        with self._writer.begin() as connection:
            connection.execute(insert(_REQUESTS), {
                "job_id": job_id, "action": action, "requested_at": utcnow(),
                "message": message})

    def take_control_requests(self, job_ids: Sequence[str]) -> list[ControlRequest]:
        """Remove and return the pending requests for these jobs, oldest first.

        Selected and deleted by one ``DELETE … RETURNING`` under the write lock, so two
        processes polling the same jobs never both take a request. A read-only check
        first keeps the usual poll (nothing pending) from taking the write lock.
        """
        if not job_ids:
            return []
        wanted = _REQUESTS.c.job_id.in_(sorted(set(job_ids)))
        with self._engine.connect() as connection:
            pending = connection.execute(select(_REQUESTS.c.id).where(wanted).limit(1)).first()
        if pending is None:
            return []
        with self._writer.begin() as connection:
            rows = connection.execute(delete(_REQUESTS).where(wanted).returning(
                _REQUESTS.c.id, _REQUESTS.c.job_id, _REQUESTS.c.action,
                _REQUESTS.c.message)).all()
        return [ControlRequest(row.job_id, row.action, row.message or "")
                for row in sorted(rows)]

    # --- the change feed (seisproc.history.changes) -----------------------------------
    def latest_revision(self) -> int:
        """The history's revision now: :meth:`changes_since` it tells of later changes."""
        with self._engine.connect() as connection:
            return latest_revision(connection)

    def changes_since(self, revision: int, limit: int = 500) -> JobChanges:
        """The jobs saved or taken over after ``revision``, by any process, each once as
        it is now, oldest change first; at most ``limit`` of them.

        One index seek on ``jobs.revision``: a poll that finds nothing costs the same
        with a million jobs in the history as with ten (``benchmarks/history_scale.py``).
        A damaged row is skipped, never read again.

        Examples
        --------
        >>> seen = store.latest_revision()                      # doctest: +SKIP
        >>> changes = store.changes_since(seen)                 # doctest: +SKIP
        >>> seen = changes.revision           # the next poll's cursor  # doctest: +SKIP
        """
        with self._engine.connect() as connection:
            rows, last = select_changes(connection, revision, max(limit, 1))
        return JobChanges(_readable_jobs(rows), last, more=len(rows) >= max(limit, 1))

    # --- leases (seisproc.jobs.owner): "now" is the database's clock ---------------
    def renew_leases(self, leases: Mapping[str, int], ttl_s: float) -> list[str]:
        """Extend each lease held (``{job_id: token}``) to ``ttl_s`` seconds from now;
        returns the ids whose lease is lost (another process took the job over, or the
        job is gone). One ``UPDATE … RETURNING`` by primary key, every few seconds."""
        if not leases:
            return []
        with self._writer.begin() as connection:
            return lease_sql.renew_leases(connection, leases, ttl_s)

    def take_over(self, job_id: str, owner: str, ttl_s: float, *, owner_dead: bool = False,
                  expected_lease: int | None = None) -> Job | None:
        """Make ``owner`` the owner of the unfinished job ``job_id`` (an exact id), with
        the next fencing token and a lease of ``ttl_s`` seconds, if its lease has run out
        or ``owner_dead``; ``None`` if a live owner holds it or the job has ended.

        ``expected_lease``, when given, is the token the caller read with the owner it
        found dead: if another process took the job over since, this one does not. One
        conditional ``UPDATE``: of several processes racing, exactly one wins.

        Examples
        --------
        >>> job = store.take_over("a1b2c3d4e5f6", this_owner(), LEASE_TTL_S)  # doctest: +SKIP
        """
        with self._writer.begin() as connection:
            return lease_sql.take_over(connection, job_id, owner, ttl_s,
                                       owner_dead=owner_dead, expected_lease=expected_lease)

    def lease_expired(self, job_id: str) -> bool:
        """Whether the job's lease has run out by the database's clock (``True`` for an
        unknown id): no live process holds it."""
        with self._engine.connect() as connection:
            return lease_sql.lease_expired(connection, job_id)

    # --- history --------------------------------------------------------------------
    def query(self, job_types: Sequence[JobType] | None = None,
              states: Sequence[JobState] | None = None, date_from: datetime | None = None,
              date_to: datetime | None = None, text: str | None = None,
              limit: int | None = 50, offset: int = 0, batch: str | None = None) -> list[Job]:
        """Jobs matching every given filter, newest first, one page of ``limit``.

        Parameters
        ----------
        job_types, states
            Keep jobs of any of these types / in any of these states.
        date_from, date_to
            Keep jobs created at or after ``date_from`` and before ``date_to`` (aware
            datetimes; a naive one is refused).
        text
            Case-insensitive substring of the id, name, message, error, input or output.
        limit, offset
            Page size (``None``: everything) and how many matching jobs to skip.
        batch
            Keep the jobs of this batch (``seisproc run --each``), by its exact id.

        Examples
        --------
        >>> store.query(job_types=[JobType.QC], states=[JobState.FAILED])  # doctest: +SKIP
        """
        where = JobFilter(job_types, states, date_from, date_to, text, batch)
        with self._engine.connect() as connection:
            rows = connection.execute(where.select(limit, offset)).all()
        return _readable_jobs(rows)

    def get_statistics(self, days: int = 30, *, now: datetime | None = None) -> JobStatistics:
        """Counts, rates, durations, failures, processor use and resource utilisation of
        the jobs created in the last ``days`` UTC days, today (the day of ``now``,
        default: the current time) included. See :mod:`seisproc.history.statistics`.

        A few aggregate queries in one read transaction (a snapshot, so the figures
        agree with each other): under a second for a year of a million jobs on SQLite
        (``benchmarks/history_scale.py``).
        """
        with self._engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            return compute_statistics(connection, days, now or utcnow())

    def cleanup(self, keep_days: int = 90) -> int:
        """Delete ended jobs created more than ``keep_days`` days ago, with their
        transition logs, and resource samples as old; returns how many jobs went.

        Queued, running, paused and interrupted jobs are never removed, however old. The
        deletion runs in short batches so jobs running meanwhile can still save.
        """
        if keep_days < 0:
            raise ValueError(f"keep_days must not be negative, not {keep_days}")
        cutoff = utcnow() - timedelta(days=keep_days)
        removed = 0
        while True:
            with self._writer.begin() as connection:
                lock_revisions(connection)  # deletes too: see seisproc.history.changes
                batch = delete_before(connection, cutoff)
            removed += batch
            if not batch:
                break
        with self._writer.begin() as connection:
            delete_samples_before(connection, cutoff)
        return removed

    def predict(self, processors: Sequence[str], traces_total: int) -> Prediction:
        """Expected rate and duration of a job, from completed jobs with the same
        processors and a similar number of traces (see :mod:`.predictions`)."""
        with self._engine.connect() as connection:
            return predictions.predict(connection, list(processors), traces_total)

    def predicted_rate(self, job: Job) -> float | None:
        """Traces/s the history expects of ``job``, or ``None`` when no completed job is
        comparable (a default rate is no evidence that a job runs slow).

        Shaped as the monitor's ``Predictor`` (``JobTracker(..., predict=store.predicted_rate)``),
        which the ``job_slow`` alert compares the job's actual rate with.
        """
        prediction = self.predict(processor_names(job.flow), job.progress.traces_total)
        return prediction.traces_per_s if prediction.from_history else None

    def prediction_pairs(self, since: datetime, until: datetime,
                         limit: int = 500) -> list[PredictionPair]:
        """Predicted and actual durations of the most recent completed jobs created in
        ``[since, until]`` (most recent first): how good the predictions were, per job."""
        with self._engine.connect() as connection:
            return predictions.prediction_pairs(connection, since, until, limit)

    def record_prediction(self, job_id: str, prediction: Prediction) -> bool:
        """Store ``prediction`` beside the job's actual figures; ``False`` for an unknown
        id. Later saves of the job keep it."""
        with self._writer.begin() as connection:
            return predictions.record_prediction(connection, job_id, prediction)

    def save_resource_samples(
            self, samples: Iterable[ResourceSample | Mapping[str, Any]]) -> int:
        """Append resource samples (dataclasses or mappings with the same field names) in
        one transaction; returns how many were saved."""
        with self._writer.begin() as connection:
            return insert_samples(connection, samples)

    def resource_samples(self, date_from: datetime | None = None,
                         date_to: datetime | None = None) -> list[ResourceSample]:
        """Samples taken at or after ``date_from`` and before ``date_to``, oldest first."""
        with self._engine.connect() as connection:
            return select_samples(connection, date_from, date_to)

    def job_events(self, job_id: str) -> list[dict[str, Any]]:
        """The job's state transitions in order, each ``{"at", "from_state", "to_state",
        "message"}``; ``from_state`` is ``None`` for the first save."""
        query = (select(_EVENTS.c.at, _EVENTS.c.from_state, _EVENTS.c.to_state,
                        _EVENTS.c.message)
                 .where(_EVENTS.c.job_id == job_id).order_by(_EVENTS.c.id))
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [{"at": row.at,
                 "from_state": JobState(row.from_state) if row.from_state else None,
                 "to_state": JobState(row.to_state), "message": row.message}
                for row in rows]

    def close(self) -> None:
        """Close the pooled connections (and with them SQLite's WAL file handles)."""
        self._engine.dispose()

    def _select_jobs(self, states: Sequence[JobState] | None, limit: int | None) -> list[Job]:
        query = select(_JOBS).order_by(_JOBS.c.created_at.desc(), _JOBS.c.id.desc())
        if states is not None:
            query = query.where(_JOBS.c.state.in_([JobState(s).value for s in states]))
        if limit is not None:
            query = query.limit(max(limit, 0))
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return _readable_jobs(rows)


class DamagedRecord(SeisprocError):
    """A job's row in the history cannot be read (edited by hand, written by a newer
    seisproc): listings skip it, and asking for it names the job and the cause."""


def _readable(row: Mapping[Any, Any]) -> Job:
    try:
        return job_from_row(row)
    except Exception as exc:
        raise DamagedRecord(f"job {row.get('id')}: its record in the job history cannot be "
                            f"read ({type(exc).__name__}: {exc})") from None


def _readable_jobs(rows: Sequence[Any]) -> list[Job]:
    """The jobs of ``rows``; one damaged row is logged and skipped, never the listing."""
    jobs = []
    for row in rows:
        try:
            jobs.append(_readable(row._mapping))
        except DamagedRecord as exc:
            log.warning("%s; it is left out", exc)
    return jobs


def _file_size(path: str) -> int | None:
    try:
        return os.stat(path).st_size if path else None
    except OSError:
        return None


def _upsert_statement(dialect: str) -> Executable:
    """``INSERT … ON CONFLICT (id) DO UPDATE``: one round trip, no race on a new id.

    The annotation columns (input size, prediction, lease expiry) are not the Job's: a
    save leaves them. A new row's lease runs from now, by the database's clock. Every
    save takes the history's next revision (:mod:`seisproc.history.changes`).
    """
    first_lease = db_epoch() + LEASE_TTL_S
    updated = [column.name for column in _JOBS.columns
               if column.name != "id" and column.name not in ANNOTATION_COLUMNS]
    if dialect == "sqlite":
        lite = sqlite.insert(_JOBS).values(lease_expires=first_lease, revision=next_revision())
        return lite.on_conflict_do_update(
            index_elements=[_JOBS.c.id], set_={name: lite.excluded[name] for name in updated})
    if dialect == "postgresql":
        pg = postgresql.insert(_JOBS).values(lease_expires=first_lease, revision=next_revision())
        return pg.on_conflict_do_update(
            index_elements=[_JOBS.c.id], set_={name: pg.excluded[name] for name in updated})
    raise ValueError(f"the job history runs on SQLite or PostgreSQL, not {dialect}")
