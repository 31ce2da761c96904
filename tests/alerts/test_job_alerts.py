"""Alerts driven by a real JobManager (in-process adapters): stuck, worker lost, failed."""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_helpers import FakeClock, Recorder, wait_for

from seisproc.alerts import ActionDispatcher, AlertManager, AlertStatus, get_default_rules
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.jobs.ports import Completion, Executor, JobSpec
from seisproc.jobs.units import WorkUnit
from seisproc.monitoring import JobTracker, ResourceMonitor
from seisproc.processing.flow import Flow

S = JobState


class StallingExecutor:
    """Takes units and never finishes them: a job that makes no progress at all.

    Stopping a job hands its units back as dropped, as the real executors do, so that a
    cancel completes.
    """

    def __init__(self) -> None:
        self._held: list[tuple[str, WorkUnit]] = []
        self._dropped: queue.Queue[Completion] = queue.Queue()

    def capacity(self) -> int:
        return 2

    def submit(self, spec: JobSpec, unit: WorkUnit) -> None:
        self._held.append((spec.job_id, unit))

    def wait(self, timeout_s: float) -> list[Completion]:
        try:
            return [self._dropped.get(timeout=timeout_s)]
        except queue.Empty:
            return []

    def in_flight(self) -> int:
        return len(self._held) + self._dropped.qsize()

    def stop_job(self, job_id: str) -> None:
        for held in [h for h in self._held if h[0] == job_id]:
            self._held.remove(held)
            self._dropped.put(Completion(job_id, held[1], result=None))

    def release_job(self, job_id: str) -> None:
        self.stop_job(job_id)

    def shutdown(self) -> None:
        self._held.clear()


class LosingExecutor(ThreadExecutor):
    """Reports its first finished unit as lost with its worker, as the Ray executor does
    when an actor dies with a unit in flight."""

    def __init__(self) -> None:
        super().__init__(workers=1)
        self.lost = False

    def wait(self, timeout_s: float) -> list[Completion]:
        done = super().wait(timeout_s)
        if done and not self.lost:
            self.lost = True
            done[0] = dataclasses.replace(done[0], result=None, worker_lost=True,
                                          node="node-7")
        return done


def make_manager(tmp_path: Path, executor: type[Executor]) -> JobManager:
    return JobManager(MemoryJobStore(), executor, CheckpointStore(tmp_path / "ckpt"),
                      gathers_per_unit=1)


def flow(survey: Path, output: Path) -> Flow:
    return Flow.from_mapping({"name": "line-12", "input": str(survey), "output": str(output),
                              "steps": [{"agc": {"window_ms": 200}}]})


@pytest.fixture
def alerts(clock: FakeClock, dispatcher: ActionDispatcher) -> Iterator[AlertManager]:
    manager = AlertManager([dataclasses.replace(r, actions=["record"])
                            for r in get_default_rules()], dispatcher=dispatcher, clock=clock)
    yield manager
    manager.close()


def test_job_stuck_fires_for_a_job_that_makes_no_progress(
        tmp_path: Path, small_survey: Path, clock: FakeClock, alerts: AlertManager,
        recorder: Recorder) -> None:
    manager = make_manager(tmp_path, StallingExecutor)
    tracker = JobTracker.following(manager, clock=clock)
    monitor = ResourceMonitor(jobs=tracker, gpus=lambda: ())
    monitor.subscribe(alerts.check)
    try:
        job = manager.submit(flow(small_survey, tmp_path / "out.sgy"))
        manager.wait(job.id, 30, until=lambda j: j.progress.units_total > 0)
        monitor.sample()
        clock.advance(299)
        assert monitor.sample().jobs[0].no_progress_seconds == 299
        assert [a.rule for a in alerts.recent()] == []
        clock.advance(2)
        monitor.sample()
        [stuck] = alerts.recent()
        assert (stuck.rule, stuck.job_id, stuck.status) == ("job_stuck", job.id,
                                                            AlertStatus.FIRING)
        assert stuck.message == (f"Job line-12 ({job.id}) appears stuck - no progress "
                                 "for 301 s")
        assert wait_for(lambda: [a.rule for a in recorder.alerts] == ["job_stuck"])
    finally:
        manager.close(active="cancel")
        tracker.close()


def test_a_lost_worker_raises_an_alert_naming_node_and_job(
        tmp_path: Path, small_survey: Path, alerts: AlertManager, recorder: Recorder) -> None:
    manager = make_manager(tmp_path, LosingExecutor)
    manager.subscribe(alerts.handle_event)
    try:
        job = manager.submit(flow(small_survey, tmp_path / "out.sgy"))
        done = manager.wait(job.id, 60)
    finally:
        manager.close(active="cancel")
    assert done.state is S.COMPLETED, done.message  # the unit was retried
    [lost] = [a for a in alerts.recent() if a.rule == "worker_lost"]
    assert lost.job_id == job.id
    assert lost.message == (f"Worker lost on node node-7 running job line-12 ({job.id}); "
                            "unit 0 is retried")
    assert wait_for(lambda: "worker_lost" in [a.rule for a in recorder.alerts])


def test_a_failed_job_raises_a_critical_alert_from_its_event(
        tmp_path: Path, alerts: AlertManager) -> None:
    bad = tmp_path / "bad.sgy"
    bad.write_bytes(b"not seismic" * 1000)
    manager = make_manager(tmp_path, ThreadExecutor)
    manager.subscribe(alerts.handle_event)
    try:
        job = manager.submit(flow(bad, tmp_path / "out.sgy"))
        assert manager.wait(job.id, 30).state is S.FAILED
    finally:
        manager.close()
    [failed] = alerts.recent()
    assert (failed.rule, failed.severity.value, failed.job_id) == ("job_failed", "critical",
                                                                   job.id)
    assert "bad.sgy" in failed.message and failed.message.startswith(
        f"Job line-12 ({job.id}) failed: ")

