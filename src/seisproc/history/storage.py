"""The durable :class:`~seisproc.jobs.ports.JobStore`: SQLite by default, PostgreSQL by URL.

Every job the JobManager runs is saved here at each transition and progress update, so
``seisproc jobs`` in another terminal, the GUI and the analytics all read one history, and
a crash loses nothing already announced. Calls use short transactions on pooled
connections (SQLAlchemy Core: ``save_job`` runs for every progress update and must stay
well under a few milliseconds), so one instance is shared by all threads of a process and
any number of processes may open the same database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Executable, delete, func, insert, make_url, select
from sqlalchemy.dialects import postgresql, sqlite

from seisproc.history.engine import create_history_engine, default_database_url, writer
from seisproc.history.migrate import upgrade_to_head
from seisproc.history.models import (
    Base,
    ControlRequestRow,
    JobEventRow,
    JobRow,
    job_from_row,
    job_to_row,
)
from seisproc.jobs.model import Job, JobState, utcnow
from seisproc.jobs.ports import ControlRequest

__all__ = ["JobHistoryStorage"]

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_EVENTS = Base.metadata.tables[JobEventRow.__tablename__]
_REQUESTS = Base.metadata.tables[ControlRequestRow.__tablename__]


class JobHistoryStorage:
    """Job records, their transition log and control requests in a SQL database.

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
        same job cannot both log one transition.
        """
        with self._writer.begin() as connection:
            previous = connection.execute(
                select(_JOBS.c.state).where(_JOBS.c.id == job.id).with_for_update()
            ).scalar_one_or_none()
            connection.execute(self._upsert, job_to_row(job))
            if previous != job.state.value:
                connection.execute(insert(_EVENTS), {
                    "job_id": job.id, "at": job.updated_at, "from_state": previous,
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
                return job_from_row(exact._mapping)
            rows = connection.execute(select(_JOBS).where(by_prefix).limit(2)).all()
        return job_from_row(rows[0]._mapping) if len(rows) == 1 else None

    def get_recent(self, limit: int = 50) -> list[Job]:
        """The ``limit`` most recently created jobs, newest first."""
        return self._select_jobs(None, limit)

    def list_jobs(self, states: Sequence[JobState] | None = None) -> list[Job]:
        """Jobs in any of ``states`` (all when ``None``), newest first."""
        return self._select_jobs(states, None)

    def request_control(self, job_id: str, action: str) -> None:
        """Queue ``action`` (pause, resume, cancel) for the process that owns the job."""
        with self._writer.begin() as connection:
            connection.execute(insert(_REQUESTS), {
                "job_id": job_id, "action": action, "requested_at": utcnow()})

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
                _REQUESTS.c.id, _REQUESTS.c.job_id, _REQUESTS.c.action)).all()
        return [ControlRequest(row.job_id, row.action) for row in sorted(rows)]

    # --- history --------------------------------------------------------------------
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
        return [job_from_row(row._mapping) for row in rows]


def _upsert_statement(dialect: str) -> Executable:
    """``INSERT … ON CONFLICT (id) DO UPDATE``: one round trip, no race on a new id."""
    updated = [column.name for column in _JOBS.columns if column.name != "id"]
    if dialect == "sqlite":
        lite = sqlite.insert(_JOBS)
        return lite.on_conflict_do_update(
            index_elements=[_JOBS.c.id], set_={name: lite.excluded[name] for name in updated})
    if dialect == "postgresql":
        pg = postgresql.insert(_JOBS)
        return pg.on_conflict_do_update(
            index_elements=[_JOBS.c.id], set_={name: pg.excluded[name] for name in updated})
    raise ValueError(f"the job history runs on SQLite or PostgreSQL, not {dialect}")
