"""``JobControlRequests``: ``pause_job`` / ``cancel_job`` from a process that runs no job
(``seisproc monitor``) reach the job's own JobManager through the history."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seisproc.alerts import Alert, AlertStatus, Severity
from seisproc.alerts.actions import JobControlAction
from seisproc.engine import JobControlRequests, open_store
from seisproc.history import JobHistoryStorage
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager, JobNotFound
from seisproc.jobs.memory import ThreadExecutor
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import this_owner
from seisproc.jobs.ports import Completion, ControlRequest
from seisproc.jobs.transitions import IllegalTransition
from seisproc.processing.flow import Flow

S = JobState


@pytest.fixture
def store() -> Iterator[JobHistoryStorage]:
    store = open_store()
    yield store
    store.close()


def save(store: JobHistoryStorage, job_id: str, state: JobState, owner: str = "") -> Job:
    job = Job(id=job_id, name=f"line-{job_id[:2]}", state=state, owner=owner or this_owner())
    store.save_job(job)
    return job


def test_pause_of_a_running_job_is_a_request_for_its_process(store: JobHistoryStorage) -> None:
    save(store, "a1b2c3d4e5f6", S.RUNNING)
    job = JobControlRequests(store).pause("a1b2", "paused by alert stuck: no progress")
    assert job.id == "a1b2c3d4e5f6"
    assert store.take_control_requests([job.id]) == [
        ControlRequest(job.id, "pause", "paused by alert stuck: no progress")]
    assert store.get_job(job.id).state is S.RUNNING  # type: ignore[union-attr]  # owner acts


def test_cancel_of_a_paused_job_is_a_request_for_its_process(store: JobHistoryStorage) -> None:
    save(store, "0badc0ffee00", S.PAUSED)
    JobControlRequests(store).cancel("0badc0ffee00")
    assert store.take_control_requests(["0badc0ffee00"]) == [
        ControlRequest("0badc0ffee00", "cancel")]


@pytest.mark.parametrize(("state", "verb"), [(S.COMPLETED, "pause"), (S.COMPLETED, "cancel"),
                                             (S.PAUSED, "pause"), (S.CANCELLING, "cancel"),
                                             (S.INTERRUPTED, "cancel")])
def test_a_move_the_owner_would_refuse_leaves_no_request(store: JobHistoryStorage,
                                                         state: JobState, verb: str) -> None:
    save(store, "feedfeed0001", state)
    with pytest.raises(IllegalTransition):
        getattr(JobControlRequests(store), verb)("feedfeed0001")
    assert store.take_control_requests(["feedfeed0001"]) == []


def test_a_job_whose_process_has_gone_is_refused(store: JobHistoryStorage) -> None:
    job = Job(id="deadbeef0002", name="orphan", state=S.RUNNING, owner="other-host:1")
    store.save_job(job)
    store.renew_leases({job.id: 0}, 0.0)  # its host stopped renewing: the lease ran out
    time.sleep(0.01)
    with pytest.raises(IllegalTransition, match="has stopped, so no process would take the pause"):
        JobControlRequests(store).pause(job.id)
    assert store.take_control_requests([job.id]) == []


def test_an_unknown_job_is_refused(store: JobHistoryStorage) -> None:
    with pytest.raises(JobNotFound):
        JobControlRequests(store).cancel("nosuchjob")


class _HeldExecutor(ThreadExecutor):
    """Holds units' outcomes back until ``release`` is set: the job stays RUNNING."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__(workers=1, units_per_worker=1)
        self.release = release

    def wait(self, timeout_s: float) -> list[Completion]:
        if not self.release.is_set():
            time.sleep(timeout_s)
            return []
        return super().wait(timeout_s)


@pytest.fixture
def owner(small_survey: Path, tmp_path: Path) -> Iterator[tuple[JobManager, Job]]:
    """A JobManager on its own history connection, as the process that runs the job, and
    its job, held RUNNING until the test ends."""
    release = threading.Event()
    owner_store = open_store()
    manager = JobManager(owner_store, lambda: _HeldExecutor(release),
                         CheckpointStore(tmp_path / "ckpt"), gathers_per_unit=1,
                         control_poll_s=0.05)
    try:
        flow = Flow.from_mapping({"name": "held", "input": str(small_survey),
                                  "output": str(tmp_path / "out.sgy"),
                                  "steps": [{"agc": {"window_ms": 200}}]})
        job = manager.submit(flow)
        _wait_for(lambda: manager.get(job.id).state is S.RUNNING)
        yield manager, job
    finally:
        release.set()
        manager.close(active="cancel")
        owner_store.close()


def test_an_alert_in_another_process_pauses_the_job_its_owner_runs(
        owner: tuple[JobManager, Job], store: JobHistoryStorage) -> None:
    manager, job = owner  # ``store`` is the monitor's own connection to the history
    alert = Alert("qc_non_finite", Severity.CRITICAL, AlertStatus.FIRING,
                  "12 non-finite samples in gather ffid=1006", job_id=job.id,
                  actions=("pause_job",))
    JobControlAction(JobControlRequests(store), "pause")(alert)
    _wait_for(lambda: manager.get(job.id).state is S.PAUSED)
    expected = "paused by alert qc_non_finite: 12 non-finite samples in gather ffid=1006"
    assert manager.get(job.id).message == expected
    # the owner decides at once and records in the background: the history follows
    _wait_for(lambda: getattr(store.get_job(job.id), "state", None) is S.PAUSED)
    seen = store.get_job(job.id)
    assert seen is not None and (seen.state, seen.message) == (S.PAUSED, expected)


def test_a_request_without_a_message_gets_the_owners_default(
        owner: tuple[JobManager, Job], store: JobHistoryStorage) -> None:
    manager, job = owner
    JobControlRequests(store).cancel(job.id)  # its units are held: it stays CANCELLING
    _wait_for(lambda: manager.get(job.id).state is S.CANCELLING)
    assert manager.get(job.id).message == "cancelled by user"


def _wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
