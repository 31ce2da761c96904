"""A history written by an older seisproc is upgraded in place on first open, rows intact,
on SQLite and on PostgreSQL: the database is made at an older revision (0001 to 0004) and
filled as that revision wrote it, then opened with :class:`JobHistoryStorage`; and a
downgrade keeps what the older revision can hold.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import alembic.command
import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Row, Select, create_engine, insert, inspect, select

from seisproc.history import JobHistoryStorage
from seisproc.history.migrate import SHIPPED_HEAD, alembic_config, head_revision
from seisproc.history.models import Base, JobEventRow, JobRow, job_to_row
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType
from seisproc.jobs.ports import ControlRequest

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_EVENTS = Base.metadata.tables[JobEventRow.__tablename__]
_ADDED_IN_0002 = ("created_day", "processors_key", "duration_s", "error_reason")
_ADDED_IN_0004 = ("lease", "overwrite")
_ADDED_IN_0006 = ("batch", "provenance")
_ADDED_IN_0007 = ("waits_for",)
EST = timezone(timedelta(hours=-5))
_REQUESTS_AT_0002 = sa.table(  # as revisions 0001-0002 made it (the models move on)
    "control_requests", sa.column("job_id", sa.String()), sa.column("action", sa.String()),
    sa.column("requested_at", sa.DateTime(timezone=True)))


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
                row = {k: v for k, v in job_to_row(job).items()
                       if k not in _ADDED_IN_0002 + _ADDED_IN_0004 + _ADDED_IN_0006
                       + _ADDED_IN_0007}
                connection.execute(insert(_JOBS).values(**row))
            connection.execute(insert(_EVENTS).values(
                job_id=jobs[0].id, at=jobs[0].created_at, from_state=None,
                to_state="QUEUED", message="from 0001"))
            assert MigrationContext.configure(connection).get_current_revision() == "0001"
    finally:
        engine.dispose()


def write_at_0002(url: str, jobs: list[Job], requests: list[tuple[str, str]]) -> None:
    """A history as revision 0002 left it: jobs, an event and pending control requests
    (without the message column that 0003 adds)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            alembic.command.upgrade(alembic_config(connection), "0002")
            for job in jobs:
                connection.execute(insert(_JOBS).values(**row_before_0004(job)))
            connection.execute(insert(_EVENTS).values(
                job_id=jobs[0].id, at=jobs[0].created_at, from_state=None,
                to_state="QUEUED", message="from 0002"))
            for job_id, action in requests:
                connection.execute(insert(_REQUESTS_AT_0002).values(
                    job_id=job_id, action=action, requested_at=datetime.now(UTC)))
            assert MigrationContext.configure(connection).get_current_revision() == "0002"
    finally:
        engine.dispose()


def row_before_0004(job: Job) -> dict[str, object]:
    return {k: v for k, v in job_to_row(job).items()
            if k not in _ADDED_IN_0004 + _ADDED_IN_0006 + _ADDED_IN_0007}


def write_at_0003(url: str, jobs: list[Job]) -> None:
    """A history as revision 0003 left it: jobs and an event, no leases."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            alembic.command.upgrade(alembic_config(connection), "0003")
            for job in jobs:
                connection.execute(insert(_JOBS).values(**row_before_0004(job)))
            connection.execute(insert(_EVENTS).values(
                job_id=jobs[0].id, at=jobs[0].created_at, from_state=None,
                to_state="QUEUED", message="from 0003"))
            assert MigrationContext.configure(connection).get_current_revision() == "0003"
    finally:
        engine.dispose()


def write_at_0004(url: str, jobs: list[Job]) -> None:
    """A history as revision 0004 left it: jobs with leases, no change feed."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            alembic.command.upgrade(alembic_config(connection), "0004")
            for job in jobs:
                connection.execute(insert(_JOBS).values(**row_before_0006(job)))
            assert MigrationContext.configure(connection).get_current_revision() == "0004"
    finally:
        engine.dispose()


def row_before_0006(job: Job) -> dict[str, object]:
    return {k: v for k, v in job_to_row(job).items()
            if k not in _ADDED_IN_0006 + _ADDED_IN_0007}


def write_at_0005(url: str, jobs: list[Job]) -> None:
    """A history as revision 0005 left it: jobs with leases and revisions, no batches."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            alembic.command.upgrade(alembic_config(connection), "0005")
            for job in jobs:
                connection.execute(insert(_JOBS).values(**row_before_0006(job)))
            assert MigrationContext.configure(connection).get_current_revision() == "0005"
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def control_request_columns(url: str) -> set[str]:
    return columns(url, "control_requests")


def test_shipped_head_names_the_newest_script_so_the_fast_check_cannot_skip_a_migration(
) -> None:
    assert head_revision() == SHIPPED_HEAD


def saved_then_downgraded(store_url: str, job: Job, revision: str, *queries: Select
                          ) -> list[list[Row]]:
    """Save ``job`` at head, downgrade the database to ``revision``, and run ``queries``
    there (their rows, in order)."""
    store = JobHistoryStorage(store_url)
    try:
        store.save_job(job)
    finally:
        store.close()
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            alembic.command.downgrade(alembic_config(connection), revision)
            return [list(connection.execute(query).all()) for query in queries]
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

    def test_database_at_0002_is_upgraded_with_pending_requests_kept_without_message(
            self, store_url: str) -> None:
        jobs = old_jobs()
        write_at_0002(store_url, jobs, [(jobs[2].id, "pause"), (jobs[2].id, "cancel")])
        store = JobHistoryStorage(store_url)
        try:
            with store.engine.connect() as connection:
                assert MigrationContext.configure(connection).get_current_revision() == (
                    head_revision())
            assert [store.get_job(job.id) for job in jobs] == jobs
            assert [e["message"] for e in store.job_events(jobs[0].id)] == ["from 0002"]
            assert store.take_control_requests([jobs[2].id]) == [
                ControlRequest(jobs[2].id, "pause", ""), ControlRequest(jobs[2].id, "cancel", "")]
            store.request_control(jobs[2].id, "pause", "paused by alert stuck: no progress")
            assert store.take_control_requests([jobs[2].id]) == [
                ControlRequest(jobs[2].id, "pause", "paused by alert stuck: no progress")]
        finally:
            store.close()

    def test_downgrade_to_0002_drops_the_message_and_keeps_pending_requests(
            self, store_url: str) -> None:
        store = JobHistoryStorage(store_url)
        try:
            store.request_control("job-a", "cancel", "cancelled by alert disk_full: 97%")
        finally:
            store.close()
        engine = create_engine(store_url)
        try:
            with engine.begin() as connection:
                alembic.command.downgrade(alembic_config(connection), "0002")
                kept = connection.execute(
                    select(_REQUESTS_AT_0002.c.job_id, _REQUESTS_AT_0002.c.action)).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in kept] == [("job-a", "cancel")]
        assert "message" not in control_request_columns(store_url)
        store = JobHistoryStorage(store_url)  # and up again, on the next open
        try:
            assert store.take_control_requests(["job-a"]) == [
                ControlRequest("job-a", "cancel", "")]
        finally:
            store.close()


    def test_database_at_0003_is_upgraded_with_token_zero_and_leases_run_out(
            self, store_url: str) -> None:
        jobs = old_jobs()
        write_at_0003(store_url, jobs)
        store = JobHistoryStorage(store_url)
        try:
            assert [store.get_job(job.id) for job in jobs] == jobs
            assert all(j.lease == 0 and not j.overwrite for j in store.list_jobs())
            queued = jobs[2]
            assert store.lease_expired(queued.id), "no process renewed a lease before 0004"
            taken = store.take_over(queued.id, "node2:77", 30.0)
            assert taken is not None and taken.lease == 1 and taken.owner == "node2:77"
            assert [e["message"] for e in store.job_events(jobs[0].id)] == ["from 0003"]
        finally:
            store.close()

    def test_downgrade_to_0003_drops_the_lease_columns_and_keeps_jobs_and_events(
            self, store_url: str) -> None:
        job = dataclasses.replace(old_jobs()[2], lease=4, overwrite=True)
        kept, events = saved_then_downgraded(store_url, job, "0003",
                                             select(_JOBS.c.id, _JOBS.c.name),
                                             select(_EVENTS.c.job_id))
        assert [tuple(row) for row in kept] == [(job.id, job.name)]
        assert [tuple(row) for row in events] == [(job.id,)]
        assert not {"lease", "lease_expires", "overwrite"} & columns(store_url, "jobs")
        store = JobHistoryStorage(store_url)  # and up again, on the next open
        try:
            assert store.get_job(job.id) == dataclasses.replace(job, lease=0, overwrite=False)
        finally:
            store.close()


    def test_database_at_0004_is_upgraded_with_its_jobs_before_any_change(
            self, store_url: str) -> None:
        jobs = old_jobs()
        write_at_0004(store_url, jobs)
        store = JobHistoryStorage(store_url)
        try:
            assert [store.get_job(job.id) for job in jobs] == jobs
            assert store.latest_revision() == 0 and store.changes_since(0).jobs == []
            store.save_job(dataclasses.replace(jobs[2], message="changed"))
            changes = store.changes_since(0)
            assert [job.id for job in changes.jobs] == [jobs[2].id] and changes.revision == 1
        finally:
            store.close()

    def test_downgrade_to_0004_drops_the_change_feed_and_keeps_jobs(
            self, store_url: str) -> None:
        job = old_jobs()[2]
        (kept,) = saved_then_downgraded(store_url, job, "0004", select(_JOBS.c.id))
        assert [tuple(row) for row in kept] == [(job.id,)]
        assert "revision" not in columns(store_url, "jobs")
        engine = create_engine(store_url)
        try:
            assert not inspect(engine).has_table("revision_floor")
        finally:
            engine.dispose()
        store = JobHistoryStorage(store_url)  # and up again, on the next open
        try:
            assert store.get_job(job.id) == job and store.latest_revision() == 0
        finally:
            store.close()


    def test_database_at_0005_is_upgraded_with_no_batch_and_no_provenance(
            self, store_url: str) -> None:
        jobs = old_jobs()
        write_at_0005(store_url, jobs)
        store = JobHistoryStorage(store_url)
        try:
            assert [store.get_job(job.id) for job in jobs] == jobs
            assert all(store.get_job(job.id).batch == "" for job in jobs)
            batched = dataclasses.replace(jobs[2], batch="b12345678",
                                          provenance={"seisproc": "x", "input": {"size": 1}})
            store.save_job(batched)
            assert store.get_job(batched.id) == batched
            assert store.query(batch="b12345678", limit=None) == [batched]
        finally:
            store.close()

    def test_downgrade_to_0005_drops_batch_and_provenance_and_keeps_jobs(
            self, store_url: str) -> None:
        job = dataclasses.replace(old_jobs()[2], batch="b1", provenance={"python": "3"})
        (kept,) = saved_then_downgraded(store_url, job, "0005", select(_JOBS.c.id))
        assert [tuple(row) for row in kept] == [(job.id,)]
        assert not {"batch", "provenance"} & columns(store_url, "jobs")
        store = JobHistoryStorage(store_url)  # and up again, on the next open
        try:
            assert store.get_job(job.id) == dataclasses.replace(job, batch="", provenance={})
        finally:
            store.close()

    def test_database_at_0006_is_upgraded_and_a_wait_survives_in_the_history(
            self, store_url: str) -> None:
        jobs = old_jobs()
        write_at_0006(store_url, jobs)
        store = JobHistoryStorage(store_url)
        try:
            assert [store.get_job(job.id) for job in jobs] == jobs  # waiting for nothing
            waiting = dataclasses.replace(jobs[2], state=JobState.WAITING,
                                          waits_for=("old000000001", "old000000002"))
            store.save_job(waiting)
            assert store.get_job(waiting.id) == waiting
        finally:
            store.close()

    def test_downgrade_to_0006_drops_waits_for_and_keeps_jobs(self, store_url: str) -> None:
        job = dataclasses.replace(old_jobs()[2], waits_for=("a1",))
        (kept,) = saved_then_downgraded(store_url, job, "0006", select(_JOBS.c.id))
        assert [tuple(row) for row in kept] == [(job.id,)]
        assert "waits_for" not in columns(store_url, "jobs")


def write_at_0006(url: str, jobs: list[Job]) -> None:
    """A history as revision 0006 left it: batches and provenance, no waits."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            alembic.command.upgrade(alembic_config(connection), "0006")
            for job in jobs:
                row = {k: v for k, v in job_to_row(job).items() if k not in _ADDED_IN_0007}
                connection.execute(insert(_JOBS).values(**row))
            assert MigrationContext.configure(connection).get_current_revision() == "0006"
    finally:
        engine.dispose()


class TestMigrationSqlite(MigrationContract):
    @pytest.fixture
    def store_url(self, sqlite_url: str) -> str:
        return sqlite_url


class TestMigrationPostgres(MigrationContract):
    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url
