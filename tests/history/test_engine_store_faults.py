"""The engine against a real history that fails: SQLite and PostgreSQL.

A database locked by another process for 15 s, a completion the history refuses, a job
taken over by another host: each ends in a true state within seconds, the history never
contradicts the files, and nobody who asks the manager waits for the database.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine_faults import FaultyStore, sleepy_processor
from seisproc.history import JobHistoryStorage
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.jobs.plan import partial_path_for
from seisproc.processing.flow import Flow

S = JobState
STEPS = [{"test_sleepy": {"ms": 15}}, {"agc": {"window_ms": 200}}]
LOCKED_STEPS = [{"test_sleepy": {"ms": 500}}, {"agc": {"window_ms": 200}}]
"""48 gathers on one worker: 24 s of work, longer than the lock is held."""
LOCK_S = 15.0

HOLD_LOCK = {
    "sqlite": """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
""",
    "postgresql": """
import sys, time
import psycopg
with psycopg.connect(sys.argv[1]) as connection:
    connection.execute("LOCK TABLE jobs IN EXCLUSIVE MODE")  # writes wait, reads do not
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
""",
}


@pytest.fixture(params=["sqlite_url", "postgres_url"])
def history_url(request: pytest.FixtureRequest) -> str:
    """The same scenario on each database the history runs on."""
    return str(request.getfixturevalue(request.param))


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_survey(tmp_path_factory.mktemp("survey") / "shots.sgy",
                             SurveyGeometry(shots=48, channels=40, samples=501, dt_ms=4.0))


@pytest.fixture(autouse=True, scope="module")
def sleepy() -> Iterator[None]:
    with sleepy_processor():
        yield


def flow_to(survey: Path, out: Path, steps: list | None = None) -> Flow:
    return Flow.from_mapping({"name": out.stem, "input": str(survey), "output": str(out),
                              "steps": steps or STEPS})


def manager_on(store: object, tmp_path: Path, **options: object) -> JobManager:
    return JobManager(store, lambda: ThreadExecutor(1, units_per_worker=1),  # type: ignore[arg-type]
                      CheckpointStore(tmp_path / "ckpt"), gathers_per_unit=1, **options)


def hold_lock(url: str, seconds: float) -> subprocess.Popen[str]:
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    target = url.removeprefix("sqlite:///") if dialect == "sqlite" else url.replace(
        "postgresql+psycopg://", "postgresql://")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK[dialect], target, str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    holder.stdout.close()
    return holder


def test_4_get_list_and_requests_answer_at_once_while_another_process_locks_the_history(
        history_url: str, survey: Path, tmp_path: Path) -> None:
    store = JobHistoryStorage(history_url)
    m = manager_on(store, tmp_path)
    try:
        job = m.submit(flow_to(survey, tmp_path / "out.sgy", LOCKED_STEPS))
        m.wait(job.id, 30, until=lambda j: j.progress.units_done >= 2)
        holder = hold_lock(history_url, LOCK_S)
        get_s, list_s, asks = [], [], []
        until = time.monotonic() + LOCK_S - 2
        while time.monotonic() < until:
            began = time.perf_counter()
            m.get(job.id)
            get_s.append(time.perf_counter() - began)
            began = time.perf_counter()
            m.list()
            list_s.append(time.perf_counter() - began)
            if len(asks) < 2 and time.monotonic() > until - LOCK_S / 2:
                began = time.perf_counter()
                m.pause(job.id) if not asks else m.resume(job.id)
                asks.append(time.perf_counter() - began)
            time.sleep(0.05)
        assert holder.poll() is None, "the lock was released early: the scenario did not hold"
        assert max(get_s) < 0.05, f"get() took {max(get_s) * 1000:.0f} ms"
        assert np.percentile(list_s, 99) < 0.05, f"list() p99 {np.percentile(list_s, 99):.3f} s"
        assert max(asks) < 1.0, f"pause/resume took {max(asks):.2f} s"
        holder.wait(timeout=30)
        assert m.wait(job.id, 120).state is S.COMPLETED
        assert store.get_job(job.id).state is S.COMPLETED
    finally:
        m.close(active="cancel")
        store.close()


def test_3_a_completion_the_history_refuses_ends_failed_and_no_output_under_its_name(
        history_url: str, survey: Path, tmp_path: Path) -> None:
    store = FaultyStore(JobHistoryStorage(history_url))
    store.failing = lambda job: job.state is S.COMPLETED
    m = manager_on(store, tmp_path, store_retry_s=1.0)
    out = tmp_path / "out.sgy"
    try:
        job = m.submit(flow_to(survey, out))
        ended = m.wait(job.id, 60)
        assert ended.state is S.FAILED and "could not record its completion" in (
            ended.error.message)
        assert not out.exists() and not partial_path_for(out, job.id).exists()
    finally:
        m.close()
    recorded = store.inner.get_job(job.id)
    assert recorded.state is S.FAILED  # the FAILED record itself was accepted
    store.inner.close()


def test_10_a_stale_owners_writes_are_refused_and_it_lets_go(
        history_url: str, survey: Path, tmp_path: Path) -> None:
    store = JobHistoryStorage(history_url)
    m = manager_on(store, tmp_path, lease_renew_s=0.1)
    out = tmp_path / "out.sgy"
    try:
        job = m.submit(flow_to(survey, out))
        m.wait(job.id, 30, until=lambda j: j.progress.units_done >= 2)
        other = JobHistoryStorage(history_url)  # another host, its clock no matter
        taken = other.take_over(job.id, "otherhost:7", 30, owner_dead=True,
                                expected_lease=job.lease)
        assert taken is not None and taken.lease == job.lease + 1
        deadline = time.monotonic() + 5
        while m.get(job.id).owner != "otherhost:7":
            assert time.monotonic() < deadline, "the stale owner still holds the job"
            time.sleep(0.05)
        time.sleep(0.5)  # whatever it still had in flight has landed
        recorded = other.get_job(job.id)
        assert (recorded.owner, recorded.lease) == ("otherhost:7", job.lease + 1)
        assert partial_path_for(out, job.id).exists() and not out.exists()
        other.close()
    finally:
        m.close()
        store.close()


def test_0_one_damaged_row_never_stops_the_listing_or_the_next_command(
        history_url: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    from seisproc.history.storage import DamagedRecord
    from seisproc.jobs.model import Job

    store = JobHistoryStorage(history_url)
    try:
        for job_id in ("aaaa00000001", "bbbb00000002"):
            store.save_job(Job(id=job_id, name=job_id, owner="nohost:1"))
        with store.engine.begin() as connection:  # edited by hand, or a newer seisproc
            connection.execute(text("UPDATE jobs SET state = 'ARCHIVED' WHERE id = :id"),
                               {"id": "aaaa00000001"})
        assert [j.id for j in store.list_jobs()] == ["bbbb00000002"]
        with pytest.raises(DamagedRecord, match="job aaaa00000001: its record in the job "
                                                "history cannot be read"):
            store.get_job("aaaa00000001")
        m = manager_on(store, tmp_path)  # recovery reads the history: it starts all the same
        assert [j.id for j in m.list()] == ["bbbb00000002"]
        m.close()
    finally:
        store.close()
