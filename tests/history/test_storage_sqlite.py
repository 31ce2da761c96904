"""SQLite specifics of the job history: pragmas, transition log, migrations, processes."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import alembic.command
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ClauseElement, create_engine, inspect

import seisproc
from seisproc.history import JobHistoryStorage
from seisproc.history.migrate import alembic_config
from seisproc.history.models import Base
from seisproc.jobs.model import Job, JobProgress, JobState
from seisproc.jobs.transitions import transition

TABLES = {"jobs", "job_events", "control_requests", "alembic_version"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[JobHistoryStorage]:
    storage = JobHistoryStorage(f"sqlite:///{db_path}")
    yield storage
    storage.close()


def revision_of(db_path: Path) -> str | None:
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_database_is_in_wal_mode_with_the_connection_pragmas(
        store: JobHistoryStorage, db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA synchronous").scalar() == 1, "NORMAL"
        assert pragma("PRAGMA busy_timeout").scalar() == 10_000
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA wal_autocheckpoint").scalar() == 10_000


def test_transition_log_records_each_state_change_once(store: JobHistoryStorage) -> None:
    job = Job(id="0123456789ab", name="demo")
    store.save_job(job)
    running = transition(job, JobState.RUNNING, message="started")
    store.save_job(running)
    store.save_job(dataclasses.replace(running, progress=JobProgress(units_done=3)))
    done = transition(running, JobState.COMPLETED, message="all units written")
    store.save_job(done)
    events = store.job_events(job.id)
    assert [(e["from_state"], e["to_state"]) for e in events] == [
        (None, JobState.QUEUED),
        (JobState.QUEUED, JobState.RUNNING),
        (JobState.RUNNING, JobState.COMPLETED)]
    assert [e["message"] for e in events] == ["", "started", "all units written"]
    assert events[-1]["at"] == done.updated_at
    assert store.job_events("nonexistent") == []


def test_processor_names_are_stored_for_analytics(store: JobHistoryStorage) -> None:
    flow = {"steps": [{"bandpass": {"low_hz": 5}}, {"agc": {"window_ms": 500}}]}
    store.save_job(Job(id="0123456789ab", name="demo", flow=flow))
    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT processors FROM jobs").scalar()
    assert stored == '["bandpass", "agc"]'


def test_naive_datetimes_are_refused(store: JobHistoryStorage) -> None:
    job = Job(id="0123456789ab", name="demo", created_at=datetime(2026, 1, 1))
    with pytest.raises(Exception, match="naive datetime"):
        store.save_job(job)
    assert store.get_job(job.id) is None


def test_fresh_database_is_created_at_head(store: JobHistoryStorage, db_path: Path) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    assert revision_of(db_path) == head
    assert set(inspect(store.engine).get_table_names()) >= TABLES


def test_models_and_migrations_describe_the_same_schema(store: JobHistoryStorage) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_reopening_runs_no_migration_and_keeps_rows(
        store: JobHistoryStorage, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save_job(Job(id="0123456789ab", name="kept"))
    store.close()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an up-to-date database was migrated again")

    monkeypatch.setattr(alembic.command, "upgrade", refuse)
    reopened = JobHistoryStorage(f"sqlite:///{db_path}")
    try:
        kept = reopened.get_job("0123456789ab")
        assert kept is not None and kept.name == "kept"
    finally:
        reopened.close()


def test_database_at_base_revision_upgrades_in_place(db_path: Path) -> None:
    JobHistoryStorage(f"sqlite:///{db_path}").close()
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as connection:
        alembic.command.downgrade(alembic_config(connection), "base")
        connection.exec_driver_sql("CREATE TABLE notes (text TEXT)")
        connection.exec_driver_sql("INSERT INTO notes VALUES ('not ours')")
    engine.dispose()
    assert revision_of(db_path) is None

    store = JobHistoryStorage(f"sqlite:///{db_path}")
    store.save_job(Job(id="0123456789ab", name="after upgrade"))
    store.close()
    assert revision_of(db_path) is not None
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT text FROM notes").fetchall() == [("not ours",)]
        assert raw.execute("SELECT name FROM jobs").fetchall() == [("after upgrade",)]


def test_default_url_is_under_seisproc_home(
        seisproc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEISPROC_DATABASE_URL", raising=False)
    JobHistoryStorage().close()
    assert (seisproc_home / "job_history.db").is_file()


def test_database_url_variable_overrides_the_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "shared" / "team.db"
    monkeypatch.setenv("SEISPROC_DATABASE_URL", f"sqlite:///{target}")
    store = JobHistoryStorage()
    store.close()
    assert store.url == f"sqlite:///{target}" and target.is_file()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        JobHistoryStorage("sqlite://")


def test_save_job_median_is_under_two_milliseconds(store: JobHistoryStorage) -> None:
    job = Job(id="0123456789ab", name="timed", state=JobState.RUNNING)
    store.save_job(job)
    timings = []
    for i in range(300):
        update = dataclasses.replace(job, progress=JobProgress(units_done=i, units_total=300))
        started = time.perf_counter()
        store.save_job(update)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.002


WRITER = """
import sys
from seisproc.history import JobHistoryStorage
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.transitions import transition

url, tag = sys.argv[1], sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()
store = JobHistoryStorage(url)
for i in range(200):
    job = Job(id=f"{tag}-{i:03d}", name=tag)
    store.save_job(job)
    store.save_job(transition(job, JobState.RUNNING))
store.close()
"""


def test_two_processes_writing_one_fresh_file_lose_nothing(db_path: Path) -> None:
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(Path(seisproc.__file__).parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    writers = [subprocess.Popen(
        [sys.executable, "-c", WRITER, f"sqlite:///{db_path}", tag],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env) for tag in ("one", "two")]
    for process in writers:  # both imported: open the fresh database at the same instant
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in writers:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outcomes = [process.communicate(timeout=60) for process in writers]
    for process, (_, stderr) in zip(writers, outcomes, strict=True):
        assert process.returncode == 0, stderr
        assert "database is locked" not in stderr

    with sqlite3.connect(db_path) as raw:
        count = dict(raw.execute("SELECT name, count(*) FROM jobs "
                                 "WHERE state = 'RUNNING' GROUP BY name").fetchall())
        events = raw.execute("SELECT count(*) FROM job_events").fetchone()[0]
    assert count == {"one": 200, "two": 200}
    assert events == 800
    assert revision_of(db_path) is not None


def query_plan(store: JobHistoryStorage, query: ClauseElement) -> list[tuple[int, int, str]]:
    """SQLite's plan for ``query``: (id, parent id, detail) per step."""
    with store.engine.connect() as connection:
        sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
        return [(row[0], row[1], row[3])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def test_statistics_read_covering_indexes_in_group_order(store: JobHistoryStorage) -> None:
    """A year of a million jobs aggregates in under a second only because SQLite reads
    each statistics query from an index already in its GROUP BY / ORDER BY order; a plan
    with a temporary B-tree there sorts a million rows instead (seconds)."""
    from seisproc.history import aggregates
    from seisproc.jobs.model import JobType, utcnow

    window = aggregates._Window(aggregates.window_start(365, utcnow()), 365)
    plan = query_plan(store, aggregates._grouped_query(window))
    (scan,) = [step for step in plan if "jobs" in step[2].split()]
    assert "COVERING INDEX ix_jobs_statistics" in scan[2]
    assert not [step for step in plan if step[1] == scan[1] and "TEMP B-TREE" in step[2]]

    durations = query_plan(store, aggregates._ranked_query(window, JobType.QC, 10, 11))
    assert ["COVERING INDEX ix_jobs_durations" in d for _, _, d in durations] == [True]

    failures = query_plan(store, aggregates._failures_query(window))
    assert "COVERING INDEX ix_jobs_failures" in failures[0][2]
    assert not [d for _, _, d in failures if "GROUP BY" in d]
