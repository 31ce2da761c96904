"""The LeaseKeeper renews this process's leases from its own thread, reports the ones it
lost, and outlives a failing store; an owner on another host is judged by its lease, not
by a clock. Against the real SQL stores the keeper runs in
``tests/history/test_store_contract.py`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import logging
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta

import pytest

from seisproc.jobs.lease import LeaseKeeper
from seisproc.jobs.memory import MemoryJobStore
from seisproc.jobs.model import Job, JobState, utcnow
from seisproc.jobs.owner import owner_alive, this_owner


class RecordingStore(MemoryJobStore):
    """A memory store that counts renewals and can be made to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.renewals: list[dict[str, int]] = []
        self.failing = False

    def renew_leases(self, leases: Mapping[str, int], ttl_s: float) -> list[str]:
        self.renewals.append(dict(leases))
        if self.failing:
            raise RuntimeError("database is locked")
        return super().renew_leases(leases, ttl_s)


@pytest.fixture
def store() -> RecordingStore:
    store = RecordingStore()
    for job_id in ("job-a", "job-b"):
        store.save_job(Job(id=job_id, name=job_id, state=JobState.RUNNING, owner="h1:1"))
    return store


@pytest.fixture
def lost() -> queue.Queue[list[str]]:
    return queue.Queue()


@pytest.fixture
def keeper_for(lost: queue.Queue[list[str]]) -> Iterator[Callable[..., LeaseKeeper]]:
    keepers: list[LeaseKeeper] = []

    def make(store: MemoryJobStore, renew_s: float = 0.05, ttl_s: float = 1.0,
             on_lost: Callable[[list[str]], None] = lost.put) -> LeaseKeeper:
        keeper = LeaseKeeper(store, renew_s=renew_s, ttl_s=ttl_s, on_lost=on_lost)
        keepers.append(keeper)
        return keeper

    yield make
    for keeper in keepers:
        keeper.close()


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def lease_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "seisproc-lease"]


def test_every_period_renews_all_held_leases_in_one_call(
        store: RecordingStore, keeper_for: Callable[..., LeaseKeeper]) -> None:
    keeper = keeper_for(store)
    keeper.hold("job-a", 0)
    keeper.hold("job-b", 0)
    keeper.start()
    assert wait_until(lambda: len(store.renewals) >= 3)
    assert all(call == {"job-a": 0, "job-b": 0} for call in store.renewals)


def test_the_keeper_is_a_daemon_thread_named_seisproc_lease(
        store: RecordingStore, keeper_for: Callable[..., LeaseKeeper]) -> None:
    keeper_for(store).start()
    assert [t.daemon for t in lease_threads()] == [True]


def test_a_dropped_job_is_renewed_no_more(
        store: RecordingStore, keeper_for: Callable[..., LeaseKeeper]) -> None:
    keeper = keeper_for(store)
    keeper.hold("job-a", 0)
    keeper.hold("job-b", 0)
    keeper.drop("job-a")
    keeper.drop("never-held")
    keeper.start()
    assert wait_until(lambda: len(store.renewals) >= 2)
    assert all(call == {"job-b": 0} for call in store.renewals)
    assert keeper.held() == {"job-b": 0}


def test_a_lease_another_process_took_over_is_reported_once_and_dropped(
        store: RecordingStore, keeper_for: Callable[..., LeaseKeeper],
        lost: queue.Queue[list[str]]) -> None:
    keeper = keeper_for(store)
    keeper.hold("job-a", 0)
    keeper.hold("job-b", 0)
    keeper.start()
    assert store.take_over("job-a", "h2:2", 30.0, owner_dead=True) is not None
    assert lost.get(timeout=5) == ["job-a"]
    assert keeper.held() == {"job-b": 0}
    time.sleep(0.2)
    assert lost.empty()


def test_a_store_that_raises_is_logged_once_and_renewing_goes_on(
        store: RecordingStore, keeper_for: Callable[..., LeaseKeeper],
        lost: queue.Queue[list[str]], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="seisproc.jobs.lease")
    store.renew_leases({"job-a": 0}, 2.0)
    store.failing = True
    keeper = keeper_for(store, renew_s=0.05, ttl_s=2.0)
    keeper.hold("job-a", 0)
    keeper.start()
    assert wait_until(lambda: len(store.renewals) >= 5)
    store.failing = False
    calls = len(store.renewals)
    assert wait_until(lambda: len(store.renewals) >= calls + 3)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "cannot renew job leases" in messages[0]
    assert "RuntimeError: database is locked" in messages[0]
    assert lost.empty() and keeper.held() == {"job-a": 0}
    assert not store.lease_expired("job-a")
    assert len(lease_threads()) == 1


def test_a_lease_not_renewed_for_ttl_less_one_period_is_reported_lost(
        store: RecordingStore, keeper_for: Callable[..., LeaseKeeper],
        lost: queue.Queue[list[str]]) -> None:
    """The store is unreachable: the lease may run out before the next renewal, and
    another host may then take the job over, so this process must stop writing it."""
    store.failing = True
    keeper = keeper_for(store, renew_s=0.1, ttl_s=0.5)
    keeper.hold("job-a", 0)
    held_at = time.monotonic()
    keeper.start()
    assert lost.get(timeout=5) == ["job-a"]
    assert 0.4 <= time.monotonic() - held_at < 5
    assert keeper.held() == {}
    assert len(lease_threads()) == 1, "the keeper goes on for the jobs it holds later"


def test_an_on_lost_handler_that_raises_does_not_stop_the_keeper(
        store: RecordingStore, keeper_for: Callable[..., LeaseKeeper],
        caplog: pytest.LogCaptureFixture) -> None:
    def refuse(ids: list[str]) -> None:
        raise RuntimeError("handler bug")

    keeper = keeper_for(store, on_lost=refuse)
    keeper.hold("job-a", 0)
    keeper.hold("job-b", 0)
    keeper.start()
    store.take_over("job-a", "h2:2", 30.0, owner_dead=True)
    assert wait_until(lambda: "job-a" not in keeper.held())
    calls = len(store.renewals)
    assert wait_until(lambda: len(store.renewals) >= calls + 2)
    assert store.renewals[-1] == {"job-b": 0}
    assert any("handler of lost job leases" in r.getMessage() for r in caplog.records)


def test_close_stops_renewing(store: RecordingStore,
                              keeper_for: Callable[..., LeaseKeeper]) -> None:
    keeper = keeper_for(store)
    keeper.hold("job-a", 0)
    keeper.start()
    assert wait_until(lambda: len(store.renewals) >= 1)
    keeper.close()
    calls = len(store.renewals)
    time.sleep(0.2)
    assert len(store.renewals) == calls and keeper.held() == {}
    assert lease_threads() == []


def test_renewing_must_come_before_the_lease_runs_out(store: RecordingStore) -> None:
    with pytest.raises(ValueError, match="below ttl_s"):
        LeaseKeeper(store, renew_s=30.0, ttl_s=30.0, on_lost=print)


def test_an_owner_on_another_host_is_judged_by_its_lease_not_by_updated_at(
        store: RecordingStore) -> None:
    job = Job(id="far01", name="far", state=JobState.RUNNING, owner="elsewhere:42",
              updated_at=utcnow() - timedelta(hours=2))
    store.save_job(job)
    assert owner_alive(job) and owner_alive(job, store), "its lease is live"
    store.renew_leases({job.id: 0}, 0.0)
    time.sleep(0.01)
    assert not owner_alive(job, store)
    assert owner_alive(job), "without the store, unknown: only the lease can tell"


def test_a_dead_pid_on_this_host_is_gone_whatever_its_lease(store: RecordingStore) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    job = Job(id="dead01", name="dead", state=JobState.RUNNING,
              owner=f"{socket.gethostname()}:{child.pid}")
    store.save_job(job)
    assert not store.lease_expired(job.id)
    assert not owner_alive(job) and not owner_alive(job, store)
    assert owner_alive(dataclasses.replace(job, owner=this_owner()), store)
