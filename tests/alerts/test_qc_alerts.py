"""Alert rules on data quality: the qc_non_finite rule, job metrics' QC figures, the
pause_job / cancel_job actions, and a job paused in-process when its output holds NaN."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from alert_helpers import FakeClock, Recorder, make_snapshot, running_job, wait_for

from seisproc.alerts import (
    ActionDispatcher,
    ActionRegistry,
    Alert,
    AlertConfigError,
    AlertManager,
    AlertStatus,
    JobControlAction,
    Severity,
    get_default_rules,
    job_control_actions,
    open_alert_manager,
    parse_alert_config,
)
from seisproc.errors import SeisprocError
from seisproc.io.segy import open_segy
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.io.writer import SegyWriter
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.ports import JobSpec
from seisproc.jobs.qc import GatherQc
from seisproc.jobs.units import WorkUnit
from seisproc.monitoring import JOB_METRICS, JobMetrics, JobTracker
from seisproc.processing.flow import Flow

S = JobState


class FakeJobs:
    """A JobControl that remembers what it was asked, and refuses what ``refuse`` says."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.refuse = refuse

    def pause(self, job_id: str, message: str = "") -> None:
        self._do("pause", job_id, message)

    def cancel(self, job_id: str, message: str = "") -> None:
        self._do("cancel", job_id, message)

    def _do(self, verb: str, job_id: str, message: str) -> None:
        if verb == self.refuse:
            raise SeisprocError(f"job {job_id} is PAUSED")
        self.calls.append((verb, job_id, message))


def qc_rule_only() -> list:
    return [dataclasses.replace(r, actions=["record"]) for r in get_default_rules()
            if r.name == "qc_non_finite"]


@pytest.fixture
def alerts(clock: FakeClock, dispatcher: ActionDispatcher) -> Iterator[AlertManager]:
    manager = AlertManager(qc_rule_only(), dispatcher=dispatcher, clock=clock)
    yield manager
    manager.close()


# ---------------------------------------------------------------------- the rule
def test_the_qc_rule_fires_once_per_job_naming_the_job_and_the_count(
        alerts: AlertManager, clock: FakeClock, recorder: Recorder) -> None:
    assert alerts.check_job(running_job(qc_non_finite=0)) == []
    [alert] = alerts.check_job(running_job(qc_non_finite=1250))
    assert (alert.rule, alert.severity, alert.job_id) == ("qc_non_finite", Severity.CRITICAL,
                                                          "a1b2c3d4e5f6")
    assert alert.message == "Job shots-bp (a1b2c3d4e5f6) wrote 1,250 NaN/Inf samples"
    assert alert.value == 1250
    clock.advance(3600)  # still holding an hour later: no second alert (no second pause)
    assert alerts.check_job(running_job(qc_non_finite=2000)) == []
    assert alerts.check(make_snapshot(jobs=(running_job(qc_non_finite=2000),))) == []
    assert wait_for(lambda: len(recorder.alerts) == 1)


def test_the_qc_rule_also_fires_from_a_snapshot(alerts: AlertManager) -> None:
    raised = alerts.check(make_snapshot(jobs=(running_job(qc_non_finite=3),
                                              running_job("b" * 12, "clean"))))
    assert [(a.rule, a.job_id) for a in raised] == [("qc_non_finite", "a1b2c3d4e5f6")]


def test_the_built_in_qc_rule_pauses_and_alerts() -> None:
    [rule] = [r for r in get_default_rules() if r.name == "qc_non_finite"]
    assert rule.actions == ["log", "toast", "pause_job"]
    assert rule.metric == "job.qc_non_finite"


def test_check_job_leaves_rules_gated_by_a_snapshot_to_check(clock: FakeClock,
                                                             dispatcher: ActionDispatcher
                                                             ) -> None:
    rules = [dataclasses.replace(r, actions=["record"]) for r in get_default_rules()]
    alerts = AlertManager(rules, dispatcher=dispatcher, clock=clock)
    stuck = running_job(no_progress_seconds=900)
    assert alerts.check_job(stuck) == []  # job_stuck needs the snapshot's gate
    assert [a.rule for a in alerts.check(make_snapshot(jobs=(stuck,)))] == ["job_stuck"]


def test_job_metrics_carry_the_qc_figures_under_their_catalogue_names() -> None:
    bare = JobMetrics("a1", "x", "RUNNING")
    assert {"qc_non_finite", "qc_dead_traces"} <= set(bare.values())
    assert "qc_rms_last" not in bare.values()  # no gather measured yet
    full = JobMetrics("a1", "x", "RUNNING", predicted_traces_per_s=1.0, eta_s=3.0,
                      qc_non_finite=4, qc_dead_traces=2, qc_rms_last=0.5,
                      qc_dominant_hz_last=31.0)
    assert set(full.values()) == set(JOB_METRICS)
    assert full.values()["qc_dominant_hz_last"] == 31.0
    assert JobMetrics.from_dict(full.to_dict()) == full


def test_the_tracker_folds_each_units_qc_into_the_jobs_metrics(clock: FakeClock) -> None:
    tracker = JobTracker(clock=clock)
    heard: list[JobMetrics] = []
    tracker.on_unit(heard.append)
    job = Job(id="j1", name="line-7", state=S.RUNNING)
    units = ([GatherQc(1, 48, 0.5, 2, 0, 24.0), GatherQc(2, 48, 0.6, 0, 9, 25.0)],
             [GatherQc(3, 48, 0.7, 1, 0, None)])
    for unit in units:
        tracker.on_event(JobEvent(JobEventKind.UNIT_COMPLETED, job,
                                  detail={"unit": 0, "qc": [g.to_dict() for g in unit]}))
    [metrics] = tracker()
    assert (metrics.qc_non_finite, metrics.qc_dead_traces) == (9, 3)
    assert (metrics.qc_rms_last, metrics.qc_dominant_hz_last) == (0.7, None)
    assert [m.qc_non_finite for m in heard] == [9, 9]


# ---------------------------------------------------------------------- actions
def alert(status: AlertStatus = AlertStatus.FIRING, job_id: str | None = "j1") -> Alert:
    return Alert(rule="qc_non_finite", severity=Severity.CRITICAL, status=status,
                 message="Job x (j1) wrote 3 NaN/Inf samples", job_id=job_id)


def test_pause_job_pauses_the_alerts_job_and_says_which_alert() -> None:
    jobs = FakeJobs()
    actions = job_control_actions(jobs)
    actions["pause_job"](alert())
    actions["cancel_job"](alert())
    assert jobs.calls == [
        ("pause", "j1", "paused by alert qc_non_finite: Job x (j1) wrote 3 NaN/Inf samples"),
        ("cancel", "j1", "cancelled by alert qc_non_finite: Job x (j1) wrote 3 NaN/Inf "
                         "samples")]


def test_job_actions_ignore_resolved_and_jobless_alerts() -> None:
    jobs = FakeJobs()
    action = JobControlAction(jobs, "pause")
    action(alert(AlertStatus.RESOLVED))
    action(alert(job_id=None))
    assert jobs.calls == []


def test_a_job_that_cannot_be_paused_is_left_alone_with_a_log_line(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "seisproc.alerts")
    JobControlAction(FakeJobs(refuse="pause"), "pause")(alert())
    assert "job j1 not paused: job j1 is PAUSED" in caplog.text


def test_job_actions_are_registered_only_with_something_to_act_on() -> None:
    with_jobs = open_alert_manager(config=parse_alert_config(""), jobs=FakeJobs())
    without = open_alert_manager(config=parse_alert_config(""))
    try:
        assert {"pause_job", "cancel_job"} <= set(with_jobs.dispatcher.registry.names())
        assert "pause_job" not in without.dispatcher.registry.names()
    finally:
        with_jobs.close()
        without.close()


def test_a_rule_file_may_pause_or_cancel_jobs_on_a_qc_metric() -> None:
    config = parse_alert_config('''
        [[rules]]
        name = "dead_channels"
        metric = "job.qc_dead_traces"
        comparison = ">"
        threshold = 100
        actions = ["log", "cancel_job"]
        message = "{job_name}: {value:.0f} dead traces"
    ''')
    rule = config.rules[0].to_rule()
    assert rule.job_condition is not None
    assert rule.job_condition(running_job(qc_dead_traces=101))
    assert not rule.job_condition(running_job(qc_dead_traces=100))


def test_pausing_needs_a_job_metric() -> None:
    with pytest.raises(AlertConfigError, match=r"rule 'hot'.*'actions'.*pause_job.*job\."):
        parse_alert_config('''
            [[rules]]
            name = "hot"
            metric = "cpu_percent"
            comparison = ">"
            threshold = 99
            actions = ["pause_job"]
        ''')


# ---------------------------------------------------------------------- in-process job
class GatedExecutor(ThreadExecutor):
    """Runs the first unit at once and holds the others until ``gate`` opens: the alert
    then has all the time it needs, whatever the machine's load."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__(workers=2)
        self.gate = gate

    def _run(self, spec: JobSpec, unit: WorkUnit, stop: threading.Event) -> None:
        if unit.number > 0:
            self.gate.wait(30)
        super()._run(spec, unit, stop)


def nan_survey(path: Path) -> Path:
    """12 shots of 24 channels; the first shot's channel 5 holds a few NaN samples."""
    synthesize_survey(path, SurveyGeometry(shots=12, channels=24, samples=251, dt_ms=4.0))
    with open_segy(path) as segy:
        samples, headers = segy.read(np.array([5]))
        layout = segy.layout
    samples[0, 50:53] = np.nan
    with SegyWriter(path, layout) as writer:
        writer.write(np.array([5]), headers, samples)
    return path


def test_nan_in_the_output_pauses_the_job_and_resume_finishes_it(tmp_path: Path) -> None:
    gate = threading.Event()
    manager = JobManager(MemoryJobStore(), lambda: GatedExecutor(gate),
                         CheckpointStore(tmp_path / "ck"), gathers_per_unit=1)
    alerts = open_alert_manager(config=parse_alert_config(""), jobs=manager)
    tracker = JobTracker.following(manager)
    tracker.on_unit(alerts.check_job)
    flow = Flow.from_mapping({"name": "nan-line", "input": str(nan_survey(tmp_path / "in.sgy")),
                              "output": str(tmp_path / "out.sgy"),
                              "steps": [{"agc": {"window_ms": 200}}]})
    try:
        job = manager.submit(flow)
        paused = manager.wait(job.id, 30, until=lambda j: j.state is not S.RUNNING
                              and j.state is not S.QUEUED)
        gate.set()
        assert paused.state is S.PAUSED, paused.message
        # 3 NaN samples spoil their own 200 ms AGC windows, and only those: 3 + 2 x 25
        assert paused.message == (f"paused by alert qc_non_finite: Job nan-line ({job.id}) "
                                  "wrote 53 NaN/Inf samples")
        manager.wait(job.id, 10, until=lambda j: j.progress.units_done >= 4)
        assert manager.get(job.id).state is S.PAUSED
        assert manager.get(job.id).progress.units_done < 12
        manager.resume(job.id)
        done = manager.wait(job.id, 60)
    finally:
        gate.set()
        manager.close(active="cancel")
        tracker.close()
        alerts.close()
    assert done.state is S.COMPLETED, done.message
    assert manager.qc(job.id).non_finite == 53  # 3 NaNs and the AGC windows they spoil
    assert [a.rule for a in alerts.recent()] == ["qc_non_finite"]


def test_the_dispatcher_runs_pause_job_off_the_checking_thread(clock: FakeClock) -> None:
    seen: list[str] = []
    jobs = FakeJobs()

    def record(a: Alert) -> None:
        seen.append(threading.current_thread().name)
        JobControlAction(jobs, "pause")(a)

    dispatcher = ActionDispatcher(ActionRegistry({"pause_job": record}))
    rules = [dataclasses.replace(r, actions=["pause_job"]) for r in qc_rule_only()]
    manager = AlertManager(rules, dispatcher=dispatcher, clock=clock)
    try:
        manager.check_job(running_job(qc_non_finite=1))
        assert wait_for(lambda: len(jobs.calls) == 1)
    finally:
        manager.close()
    assert seen == ["seisproc-alert-pause_job"]
