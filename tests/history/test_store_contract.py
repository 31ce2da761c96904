"""One contract for every :class:`~seisproc.jobs.ports.JobStore`, run against each store.

Like huey's ``StorageTests``: :class:`JobStoreContract` holds the behaviours, and each
``Test…`` subclass supplies a ``store`` fixture. SQL stores are built from a ``store_url``
fixture, so PostgreSQL joins by subclassing :class:`TestJobHistoryStorageSqlite` with a
``store_url`` that points at an empty database.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from seisproc.history import JobHistoryStorage
from seisproc.jobs.lease import LeaseKeeper
from seisproc.jobs.memory import MemoryJobStore
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType
from seisproc.jobs.ports import ControlRequest, JobStore, StaleOwner

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def job_at(minutes: int, job_id: str, state: JobState = JobState.QUEUED) -> Job:
    """A job created ``minutes`` after T0."""
    created = T0 + timedelta(minutes=minutes)
    return Job(id=job_id, name=f"job {job_id}", state=state, created_at=created,
               updated_at=created)


def full_job() -> Job:
    """A job with every field away from its default, times in a non-UTC zone."""
    cet = timezone(timedelta(hours=2))
    return Job(
        id="f00dcafe0001", name="bandpass line 12", type=JobType.QC, state=JobState.FAILED,
        priority=3,
        created_at=datetime(2026, 3, 1, 14, 0, 0, 250000, tzinfo=cet),
        started_at=datetime(2026, 3, 1, 14, 0, 5, tzinfo=cet),
        finished_at=datetime(2026, 3, 1, 14, 9, 59, 999999, tzinfo=cet),
        updated_at=datetime(2026, 3, 1, 14, 9, 59, 999999, tzinfo=cet),
        progress=JobProgress(units_done=7, units_total=12, traces_done=3_000_000_000,
                             traces_total=5_000_000_000, traces_per_s=1234.5, eta_s=None),
        message="gather ffid=1003 has NaNs",
        error=JobError(type="ProcessingError", message="NaN in output",
                       traceback="Traceback (most recent call last):\n  ...", gather="ffid=1003"),
        flow={"name": "qc", "input": "/data/in.sgy", "output": "/data/out.sgy",
              "gather_by": "ffid",
              "steps": [{"bandpass": {"low_hz": 5.0, "high_hz": 60.0}}, {"agc": {}}]},
        input="/data/in.sgy", output="/data/out.sgy", owner="node7:4242", lease=3,
        overwrite=True, nodes=("node7", "node8"), tags=("line12", "qc"),
    )


class JobStoreContract:
    """Behaviours every JobStore keeps. Subclasses provide a ``store`` fixture."""

    def test_saved_job_comes_back_equal_with_every_field(self, store: JobStore) -> None:
        job = full_job()
        store.save_job(job)
        loaded = store.get_job(job.id)
        assert loaded == job
        assert loaded is not None
        for name in ("created_at", "started_at", "finished_at", "updated_at"):
            value = getattr(loaded, name)
            assert value.utcoffset() is not None, name
            assert value == getattr(job, name), name
        assert loaded.progress.eta_s is None
        assert loaded.error == job.error
        assert loaded.nodes == ("node7", "node8") and loaded.tags == ("line12", "qc")

    def test_saving_again_replaces_the_record(self, store: JobStore) -> None:
        job = job_at(0, "aaaa00000001")
        store.save_job(job)
        later = dataclasses.replace(
            job, state=JobState.RUNNING, started_at=T0 + timedelta(seconds=1),
            progress=JobProgress(units_done=2, units_total=10, traces_per_s=50.0, eta_s=8.0),
            message="running", nodes=("n1",))
        store.save_job(later)
        assert store.get_job(job.id) == later
        assert len(store.get_recent(10)) == 1

    def test_get_job_by_unique_prefix(self, store: JobStore) -> None:
        for i, job_id in enumerate(["abc123000000", "abd456000000", "abc"]):
            store.save_job(job_at(i, job_id))
        found = store.get_job("abd")
        assert found is not None and found.id == "abd456000000"
        exact = store.get_job("abc")
        assert exact is not None and exact.id == "abc", "an exact id wins over a prefix"

    def test_get_job_is_none_when_absent_or_ambiguous(self, store: JobStore) -> None:
        store.save_job(job_at(0, "abc123000000"))
        store.save_job(job_at(1, "abc456000000"))
        assert store.get_job("ab") is None
        assert store.get_job("zzz") is None
        assert store.get_job("ABC1") is None, "prefixes are case-sensitive"
        assert store.get_job("a_c") is None, "prefixes are literal, not patterns"
        assert store.get_job("abc%") is None

    def test_get_recent_is_newest_first_and_limited(self, store: JobStore) -> None:
        for minutes, job_id in [(5, "j5"), (1, "j1"), (9, "j9"), (3, "j3")]:
            store.save_job(job_at(minutes, job_id))
        assert [j.id for j in store.get_recent()] == ["j9", "j5", "j3", "j1"]
        assert [j.id for j in store.get_recent(2)] == ["j9", "j5"]
        assert store.get_recent(0) == []

    def test_list_jobs_filters_by_state_newest_first(self, store: JobStore) -> None:
        store.save_job(job_at(1, "q1"))
        store.save_job(job_at(2, "r2", JobState.RUNNING))
        store.save_job(job_at(3, "c3", JobState.COMPLETED))
        store.save_job(job_at(4, "r4", JobState.RUNNING))
        assert [j.id for j in store.list_jobs([JobState.RUNNING])] == ["r4", "r2"]
        running_or_queued = store.list_jobs([JobState.RUNNING, JobState.QUEUED])
        assert [j.id for j in running_or_queued] == ["r4", "r2", "q1"]
        assert [j.id for j in store.list_jobs()] == ["r4", "c3", "r2", "q1"]
        assert store.list_jobs([JobState.FAILED]) == []
        assert store.list_jobs([]) == []

    def test_control_requests_are_taken_once_for_the_asked_jobs_only(
            self, store: JobStore) -> None:
        store.request_control("job-a", "pause")
        store.request_control("job-b", "cancel")
        store.request_control("job-a", "cancel")
        assert store.take_control_requests(["job-a", "job-z"]) == [
            ControlRequest("job-a", "pause"), ControlRequest("job-a", "cancel")]
        assert store.take_control_requests(["job-a"]) == []
        assert store.take_control_requests([]) == []
        assert store.take_control_requests(["job-b"]) == [ControlRequest("job-b", "cancel")]
        assert store.take_control_requests(["job-b"]) == []

    def test_control_requests_keep_their_message_and_default_to_none(
            self, store: JobStore) -> None:
        reason = "paused by alert qc_non_finite: 12 non-finite samples in gather ffid=1006 — ✓"
        store.request_control("job-a", "pause", reason)
        store.request_control("job-a", "resume")
        store.request_control("job-a", "cancel", message="cancelled by user from node7:4242")
        assert store.take_control_requests(["job-a"]) == [
            ControlRequest("job-a", "pause", reason), ControlRequest("job-a", "resume", ""),
            ControlRequest("job-a", "cancel", "cancelled by user from node7:4242")]

    def test_concurrent_takers_never_share_a_request(self, store: JobStore) -> None:
        ids = [f"job-{i:03d}" for i in range(120)]
        for job_id in ids:
            store.request_control(job_id, "cancel")
        taken: list[list[ControlRequest]] = [[] for _ in range(8)]
        start = threading.Barrier(8)

        def take(slot: int) -> None:
            start.wait()
            for _ in range(20):
                taken[slot].extend(store.take_control_requests(ids))

        run_threads(take, 8)
        everything = [r.job_id for batch in taken for r in batch]
        assert sorted(everything) == ids

    def test_concurrent_saves_from_eight_threads_lose_nothing(self, store: JobStore) -> None:
        start = threading.Barrier(8)

        def save(slot: int) -> None:
            start.wait()
            for i in range(25):
                job = job_at(slot * 25 + i, f"t{slot}-{i:02d}")
                store.save_job(job)
                store.save_job(dataclasses.replace(
                    job, state=JobState.RUNNING, progress=JobProgress(units_done=i)))

        run_threads(save, 8)
        jobs = store.list_jobs()
        assert len(jobs) == 200
        assert {j.state for j in jobs} == {JobState.RUNNING}
        assert all(j.progress.units_done == int(j.id.split("-")[1]) for j in jobs)


    # --- ownership: a lease with a fencing token -------------------------------------
    def test_a_save_carrying_an_older_lease_is_refused_and_the_row_kept(
            self, store: JobStore) -> None:
        job = dataclasses.replace(job_at(0, "lease0000001", JobState.RUNNING), owner="h1:1")
        store.save_job(job)
        taken = store.take_over(job.id, "h2:2", 30.0, owner_dead=True)
        assert taken is not None and taken.lease == 1
        stale = dataclasses.replace(job, progress=JobProgress(units_done=5), message="late")
        with pytest.raises(StaleOwner, match=r"job lease0000001: this process \(h1:1\) no "
                           r"longer owns it: h2:2 took it over; its writes are refused"):
            store.save_job(stale)
        assert store.get_job(job.id) == taken
        store.save_job(dataclasses.replace(taken, message="the new owner writes"))
        assert store.get_job(job.id).message == "the new owner writes"  # type: ignore[union-attr]

    def test_take_over_of_a_live_lease_is_none(self, store: JobStore) -> None:
        job = dataclasses.replace(job_at(0, "lease0000002", JobState.RUNNING), owner="h1:1")
        store.save_job(job)
        assert not store.lease_expired(job.id), "a first save starts the lease"
        assert store.take_over(job.id, "h2:2", 30.0) is None
        assert store.get_job(job.id) == job

    def test_take_over_after_the_lease_ran_out_raises_the_token_and_fences_the_old_owner(
            self, store: JobStore) -> None:
        job = dataclasses.replace(job_at(0, "lease0000003", JobState.RUNNING), owner="h1:1")
        store.save_job(job)
        assert store.renew_leases({job.id: 0}, 0.2) == []
        time.sleep(0.3)
        assert store.lease_expired(job.id)
        taken = store.take_over(job.id, "h2:2", 30.0)
        assert taken == dataclasses.replace(job, owner="h2:2", lease=1)
        assert not store.lease_expired(job.id)
        with pytest.raises(StaleOwner):
            store.save_job(dataclasses.replace(job, state=JobState.COMPLETED))
        assert store.get_job(job.id) == taken

    def test_take_over_of_an_ended_or_unknown_job_is_none(self, store: JobStore) -> None:
        done = job_at(0, "lease0000004", JobState.COMPLETED)
        store.save_job(done)
        assert store.take_over(done.id, "h2:2", 30.0, owner_dead=True) is None
        assert store.take_over("nosuchjob000", "h2:2", 30.0, owner_dead=True) is None
        interrupted = job_at(1, "lease0000005", JobState.INTERRUPTED)
        store.save_job(interrupted)
        assert store.take_over(interrupted.id, "h2:2", 30.0, owner_dead=True) is not None

    def test_take_over_expecting_a_token_someone_raised_since_is_none(
            self, store: JobStore) -> None:
        job = dataclasses.replace(job_at(0, "lease0000006", JobState.PAUSED), owner="h1:1")
        store.save_job(job)
        first = store.take_over(job.id, "h1:2", 30.0, owner_dead=True, expected_lease=0)
        assert first is not None and first.lease == 1
        assert store.take_over(job.id, "h1:3", 30.0, owner_dead=True, expected_lease=0) is None
        assert store.get_job(job.id) == first

    def test_racing_take_overs_have_exactly_one_winner(self, store: JobStore) -> None:
        job = dataclasses.replace(job_at(0, "lease0000007", JobState.RUNNING), owner="h1:1")
        store.save_job(job)
        store.renew_leases({job.id: 0}, 0.0)
        time.sleep(0.05)
        winners: list[Job] = []
        start = threading.Barrier(8)

        def take(slot: int) -> None:
            start.wait()
            taken = store.take_over(job.id, f"h{slot}:9", 30.0)
            if taken is not None:
                winners.append(taken)

        run_threads(take, 8)
        assert len(winners) == 1 and winners[0].lease == 1
        assert store.get_job(job.id) == winners[0]

    def test_renew_leases_returns_the_ids_whose_lease_is_lost(self, store: JobStore) -> None:
        for minutes, job_id in enumerate(["renew0000001", "renew0000002"]):
            store.save_job(job_at(minutes, job_id, JobState.RUNNING))
        store.take_over("renew0000002", "h2:2", 30.0, owner_dead=True)
        held = {"renew0000001": 0, "renew0000002": 0, "gone00000003": 0}
        assert sorted(store.renew_leases(held, 30.0)) == ["gone00000003", "renew0000002"]
        assert store.renew_leases({"renew0000002": 1}, 30.0) == []
        assert store.renew_leases({}, 30.0) == []

    def test_a_renewed_lease_runs_for_the_new_ttl_and_then_out(self, store: JobStore) -> None:
        store.save_job(job_at(0, "renew0000004", JobState.RUNNING))
        store.renew_leases({"renew0000004": 0}, 0.3)
        assert not store.lease_expired("renew0000004")
        time.sleep(0.4)
        assert store.lease_expired("renew0000004")
        assert store.lease_expired("nosuchjob000")

    def test_lease_keeper_keeps_the_lease_from_running_out_while_held(
            self, store: JobStore) -> None:
        job = job_at(0, "keeper000001", JobState.RUNNING)
        store.save_job(job)
        lost: list[list[str]] = []
        keeper = LeaseKeeper(store, renew_s=0.2, ttl_s=1.0, on_lost=lost.append)
        keeper.hold(job.id, 0)
        store.renew_leases({job.id: 0}, 1.0)
        keeper.start()
        try:
            time.sleep(3.0)
            assert store.take_over(job.id, "h2:2", 30.0) is None
            assert not store.lease_expired(job.id)
        finally:
            keeper.close()
        assert lost == []

    def test_lease_keeper_reports_a_lease_another_process_took_over(
            self, store: JobStore) -> None:
        job = job_at(0, "keeper000002", JobState.RUNNING)
        store.save_job(job)
        lost: queue.Queue[list[str]] = queue.Queue()
        keeper = LeaseKeeper(store, renew_s=0.1, ttl_s=1.0, on_lost=lost.put)
        keeper.hold(job.id, 0)
        keeper.start()
        try:
            assert store.take_over(job.id, "h2:2", 30.0, owner_dead=True) is not None
            assert lost.get(timeout=5) == [job.id]
            assert keeper.held() == {}
        finally:
            keeper.close()


def run_threads(target: Callable[[int], None], count: int) -> None:
    """Run ``target(slot)`` on ``count`` threads and re-raise the first failure."""
    errors: list[BaseException] = []

    def guarded(slot: int) -> None:
        try:
            target(slot)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


class TestMemoryJobStore(JobStoreContract):
    @pytest.fixture
    def store(self) -> JobStore:
        return MemoryJobStore()


class TestJobHistoryStorageSqlite(JobStoreContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'history.db'}"

    @pytest.fixture
    def store(self, store_url: str) -> Iterator[JobStore]:
        storage = JobHistoryStorage(store_url)
        yield storage
        storage.close()


class TestJobHistoryStoragePostgres(TestJobHistoryStorageSqlite):
    """The same contract on a real PostgreSQL server, one fresh database per test."""

    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url
