"""Leases in the SQL history are judged by the database's clock, and settled by the
database when processes race: on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import seisproc
from seisproc.history import JobHistoryStorage
from seisproc.history.sql import db_epoch
from seisproc.jobs.model import Job, JobState


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[JobHistoryStorage]:
    storage = JobHistoryStorage(store_url)
    yield storage
    storage.close()


def running_job(job_id: str) -> Job:
    return Job(id=job_id, name="line 12", state=JobState.RUNNING, owner="node1:100")


def test_db_epoch_is_seconds_since_1970_on_the_server(store: JobHistoryStorage) -> None:
    with store.engine.connect() as connection:
        before = time.time()
        now = connection.execute(select(db_epoch())).scalar_one()
        after = time.time()
    assert isinstance(now, float)
    assert before - 1.0 <= now <= after + 1.0, "the test's server runs on this host's clock"


def test_a_host_clock_an_hour_ahead_neither_expires_nor_takes_a_live_lease(
        store: JobHistoryStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    job = running_job("skew00000001")
    store.save_job(job)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600.0)
    assert not store.lease_expired(job.id)
    assert store.take_over(job.id, "node2:200", 30.0) is None
    assert store.get_job(job.id) == job


def test_an_ordinary_save_neither_extends_nor_shortens_the_lease(
        store: JobHistoryStorage) -> None:
    job = running_job("save00000001")
    store.save_job(job)
    store.renew_leases({job.id: 0}, 0.3)
    store.save_job(dataclasses.replace(job, message="progress"))
    time.sleep(0.4)
    assert store.lease_expired(job.id), "saves are not renewals: only the keeper renews"


RACER = """
import sys
from seisproc.history import JobHistoryStorage
store = JobHistoryStorage(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
taken = store.take_over(sys.argv[2], sys.argv[3], 30.0)
print("won" if taken is not None else "lost", flush=True)
store.close()
"""


def test_processes_racing_to_take_over_have_exactly_one_winner(
        store: JobHistoryStorage, store_url: str) -> None:
    job = running_job("race00000001")
    store.save_job(job)
    store.renew_leases({job.id: 0}, 0.0)
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(Path(seisproc.__file__).parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    racers = [subprocess.Popen(
        [sys.executable, "-c", RACER, store_url, job.id, f"node{n}:{n}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env) for n in range(2, 5)]
    for racer in racers:
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outcomes = [racer.communicate(timeout=60) for racer in racers]
    for racer, (_, stderr) in zip(racers, outcomes, strict=True):
        assert racer.returncode == 0, stderr
    assert sorted(out.strip() for out, _ in outcomes) == ["lost", "lost", "won"]
    taken = store.get_job(job.id)
    assert taken is not None and taken.lease == 1 and taken.owner != job.owner
