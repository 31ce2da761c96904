"""A history written by an older seisproc is upgraded in place on first open, rows intact,
on SQLite and on PostgreSQL: the database is made at revision 0001 and filled as 0001
wrote it, then opened with :class:`JobHistoryStorage`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import alembic.command
import pytest
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, select

from seisproc.history import JobHistoryStorage
from seisproc.history.migrate import alembic_config, head_revision
from seisproc.history.models import Base, JobEventRow, JobRow, job_to_row
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_EVENTS = Base.metadata.tables[JobEventRow.__tablename__]
_ADDED_IN_0002 = ("created_day", "processors_key", "duration_s", "error_reason")
EST = timezone(timedelta(hours=-5))


def old_jobs() -> list[Job]:
    created = datetime(2026, 2, 27, 21, 30, tzinfo=EST)  # 2026-02-28 02:30 UTC
    flow = {"steps": [{"bandpass": {"f1": 5}}, {"agc": {}}]}
    return [
        Job(id="old000000001", name="done", type=JobType.QC, state=JobState.COMPLETED,
            created_at=created, started_at=created + timedelta(seconds=5),
            finished_at=created + timedelta(seconds=65.5), updated_at=created, flow=flow,
            progress=JobProgress(traces_done=900, traces_total=900)),
        Job(id="old000000002", name="failed", state=JobState.FAILED,
            created_at=created + timedelta(hours=1), started_at=created, updated_at=created,
            flow={"steps": ["agc"]},
            error=JobError("ProcessingError", "a.sgy: gather ffid=1006, step 1 (agc): NaN")),
        Job(id="old000000003", name="queued", created_at=created + timedelta(hours=2)),
    ]


def write_at_0001(url: str, jobs: list[Job]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            alembic.command.upgrade(alembic_config(connection), "0001")
            for job in jobs:
                row = {k: v for k, v in job_to_row(job).items() if k not in _ADDED_IN_0002}
                connection.execute(insert(_JOBS).values(**row))
            connection.execute(insert(_EVENTS).values(
                job_id=jobs[0].id, at=jobs[0].created_at, from_state=None,
                to_state="QUEUED", message="from 0001"))
            assert MigrationContext.configure(connection).get_current_revision() == "0001"
    finally:
        engine.dispose()


class MigrationContract:
    def test_database_at_0001_is_upgraded_on_first_open_with_rows_intact(
            self, store_url: str) -> None:
        jobs = old_jobs()
        write_at_0001(store_url, jobs)
        store = JobHistoryStorage(store_url)
        try:
            with store.engine.connect() as connection:
                assert MigrationContext.configure(connection).get_current_revision() == (
                    head_revision())
                backfilled = connection.execute(
                    select(_JOBS.c.id, _JOBS.c.created_day, _JOBS.c.processors_key,
                           _JOBS.c.duration_s, _JOBS.c.error_reason).order_by(_JOBS.c.id)).all()
            assert [store.get_job(job.id) for job in jobs] == jobs
            assert [tuple(row) for row in backfilled] == [
                ("old000000001", date(2026, 2, 28), "bandpass|agc", 60.5, None),
                ("old000000002", date(2026, 2, 28), "agc", None,
                 "a.sgy: gather ffid=#, step # (agc): NaN"),
                ("old000000003", date(2026, 2, 28), "", None, None)]
            assert [e["message"] for e in store.job_events(jobs[0].id)] == ["from 0001"]
            stats = store.get_statistics(2, now=datetime(2026, 3, 1, tzinfo=UTC))
            assert stats.total_jobs == 3 and stats.durations[0].median_s == 60.5
        finally:
            store.close()


class TestMigrationSqlite(MigrationContract):
    @pytest.fixture
    def store_url(self, sqlite_url: str) -> str:
        return sqlite_url


class TestMigrationPostgres(MigrationContract):
    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url
