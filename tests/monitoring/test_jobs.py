"""JobTracker: when a job last moved, its rate, prediction and ETA, from events or polling."""

from __future__ import annotations

import dataclasses

from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import Job, JobProgress, JobState
from seisproc.monitoring import JobTracker

S = JobState


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def job(state: JobState = S.RUNNING, units: int = 0, **fields: object) -> Job:
    progress = JobProgress(units_done=units, units_total=10, traces_done=100 * units,
                           traces_total=1000, traces_per_s=250.0, eta_s=12.0)
    return dataclasses.replace(Job(id="a1b2c3d4e5f6", name="line-7", state=state,
                                   output="/data/out/line7.sgy", progress=progress), **fields)


def test_no_progress_time_grows_until_the_job_moves() -> None:
    clock = Clock()
    tracker = JobTracker(clock=clock)
    tracker.observe(job(units=1))
    clock.now += 40
    tracker.observe(job(units=1))  # same progress: still stalled
    [metrics] = tracker()
    assert metrics.no_progress_seconds == 40 and metrics.running_seconds == 40
    clock.now += 5
    tracker.observe(job(units=2))
    clock.now += 1
    [metrics] = tracker()
    assert metrics.no_progress_seconds == 1
    assert (metrics.fraction, metrics.traces_per_s, metrics.eta_s) == (0.2, 250.0, 12.0)
    assert metrics.output == "/data/out/line7.sgy"


def test_paused_time_is_not_stalled_time() -> None:
    clock = Clock()
    tracker = JobTracker(clock=clock)
    tracker.observe(job(units=3))
    clock.now += 10
    tracker.observe(job(S.PAUSED, units=3))
    clock.now += 600
    [paused] = tracker()
    assert paused.no_progress_seconds == 0 and paused.state == "PAUSED"
    tracker.observe(job(units=3))
    clock.now += 7
    [resumed] = tracker()
    assert resumed.no_progress_seconds == 7 and resumed.running_seconds == 7


def test_prediction_is_asked_once_per_job() -> None:
    asked: list[str] = []

    def predict(j: Job) -> float:
        asked.append(j.id)
        return 500.0

    tracker = JobTracker(predict=predict, clock=Clock())
    for units in range(4):
        tracker.observe(job(units=units))
    [metrics] = tracker()
    assert asked == ["a1b2c3d4e5f6"]
    assert metrics.predicted_traces_per_s == 500.0 and metrics.rate_ratio == 0.5


def test_finished_jobs_leave_and_are_announced() -> None:
    ended: list[Job] = []
    tracker = JobTracker(clock=Clock())
    tracker.on_ended(ended.append)
    tracker.on_event(JobEvent(JobEventKind.PROGRESS, job(units=5)))
    tracker.on_event(JobEvent(JobEventKind.STATE_CHANGED, job(S.FAILED, units=5)))
    assert tracker() == ()
    assert [j.state for j in ended] == [S.FAILED]


def test_polled_jobs_that_vanish_are_looked_up_and_announced() -> None:
    listed = [job(units=1), job(units=1, id="0000000000aa", name="other")]
    final = {"a1b2c3d4e5f6": job(S.COMPLETED, units=10)}
    ended: list[Job] = []
    tracker = JobTracker(lambda: listed, lookup=final.get, clock=Clock())
    tracker.on_ended(ended.append)
    assert sorted(m.name for m in tracker()) == ["line-7", "other"]
    listed.pop(0)
    assert [m.name for m in tracker()] == ["other"]
    assert [(j.id, j.state) for j in ended] == [("a1b2c3d4e5f6", S.COMPLETED)]
