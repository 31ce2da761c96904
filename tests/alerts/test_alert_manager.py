"""AlertManager: conditions, cooldowns, sustained conditions, resolution, per-job rules."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from alert_helpers import FakeClock, Recorder, make_snapshot, running_job, wait_for

from seisproc.alerts import (
    ActionDispatcher,
    AlertManager,
    AlertRule,
    AlertStatus,
    Severity,
    get_default_rules,
)
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import Job, JobError, JobState
from seisproc.monitoring import ClusterStatus, DiskStats, NodeStatus

FIRING, RESOLVED = AlertStatus.FIRING, AlertStatus.RESOLVED


def recorded_defaults() -> list[AlertRule]:
    """The built-in rules, acting through the test's ``record`` action only."""
    return [dataclasses.replace(r, actions=["record"]) for r in get_default_rules()]


@pytest.fixture
def alerts(clock: FakeClock, dispatcher: ActionDispatcher) -> AlertManager:
    return AlertManager(recorded_defaults(), dispatcher=dispatcher, clock=clock)


def fired(alerts: list, status: AlertStatus = FIRING) -> list[str]:
    return [a.rule for a in alerts if a.status is status]


# ---------------------------------------------------------------------- the seed's tests
def test_alert_triggers_on_condition(alerts: AlertManager, recorder: Recorder) -> None:
    assert alerts.check(make_snapshot(memory_percent=50)) == []
    raised = alerts.check(make_snapshot(memory_percent=90))
    assert fired(raised) == ["high_memory"]
    assert raised[0].message == "Memory usage at 90%"
    assert raised[0].severity is Severity.WARNING
    assert wait_for(lambda: [a.rule for a in recorder.alerts] == ["high_memory"])


def test_alert_respects_cooldown(alerts: AlertManager, clock: FakeClock) -> None:
    raised = []
    for _ in range(59):
        raised += alerts.check(make_snapshot(memory_percent=90))
        clock.advance(1)
    assert fired(raised) == ["high_memory"]
    clock.advance(1)  # 60 s after the first: a reminder while it still holds
    assert fired(alerts.check(make_snapshot(memory_percent=90))) == ["high_memory"]


def test_custom_rule_works(alerts: AlertManager, recorder: Recorder) -> None:
    alerts.add_rule(AlertRule("busy_cpu", lambda s: s.cpu_percent > 80, "info",
                              "CPU at {cpu_percent:.0f}% on {unknown_name}", actions=["record"]))
    raised = alerts.check(make_snapshot(cpu_percent=93.4))
    assert fired(raised) == ["busy_cpu"]
    assert raised[0].message == "CPU at 93% on ?"
    assert wait_for(lambda: [a.rule for a in recorder.alerts] == ["busy_cpu"])


# ---------------------------------------------------------------------- life cycle
def test_critical_memory_fires_beside_high_memory(alerts: AlertManager) -> None:
    raised = alerts.check(make_snapshot(memory_percent=97))
    assert sorted(fired(raised)) == ["critical_memory", "high_memory"]
    assert {a.severity for a in raised} == {Severity.WARNING, Severity.CRITICAL}


def test_resolved_is_announced_once_when_the_condition_clears(alerts: AlertManager,
                                                              clock: FakeClock) -> None:
    alerts.check(make_snapshot(memory_percent=90))
    clock.advance(1)
    cleared = alerts.check(make_snapshot(memory_percent=50))
    assert fired(cleared, RESOLVED) == ["high_memory"]
    assert cleared[0].message.startswith("resolved: Memory usage at 50%")
    clock.advance(1)
    assert alerts.check(make_snapshot(memory_percent=50)) == []


def test_flapping_metric_raises_one_alert_and_one_resolved_per_cooldown(
        alerts: AlertManager, clock: FakeClock, recorder: Recorder) -> None:
    raised = []
    for second in range(600):  # above and below 85 % every other second, for 10 minutes
        raised += alerts.check(make_snapshot(memory_percent=90 if second % 2 == 0 else 80))
        clock.advance(1)
    assert fired(raised).count("high_memory") == 10
    assert fired(raised, RESOLVED).count("high_memory") == 10
    assert wait_for(lambda: len(recorder.alerts) == 20)


def test_for_seconds_needs_the_condition_to_hold_uninterrupted(clock: FakeClock) -> None:
    alerts = AlertManager([AlertRule("sustained", lambda s: s.cpu_percent > 80, "warning",
                                     "CPU busy", for_seconds=30, actions=[])], clock=clock)
    raised = []
    for second in range(120):  # busy 29 s, idle 1 s, again and again: never 30 s in a row
        raised += alerts.check(make_snapshot(cpu_percent=10 if second % 30 == 29 else 90))
        clock.advance(1)
    assert raised == []
    for _ in range(31):
        raised += alerts.check(make_snapshot(cpu_percent=90))
        clock.advance(1)
    assert fired(raised) == ["sustained"]


def test_a_rule_replaced_by_name_starts_afresh(alerts: AlertManager, clock: FakeClock) -> None:
    alerts.check(make_snapshot(memory_percent=90))
    alerts.add_rule(AlertRule("high_memory", lambda s: s.memory_percent > 85, "critical",
                              "replaced", actions=[]))
    raised = alerts.check(make_snapshot(memory_percent=90))
    assert [(a.rule, a.message) for a in raised] == [("high_memory", "replaced")]
    assert len([r for r in alerts.rules if r.name == "high_memory"]) == 1


def test_a_condition_that_raises_counts_as_false_and_the_others_still_fire(
        alerts: AlertManager, caplog: pytest.LogCaptureFixture) -> None:
    alerts.add_rule(AlertRule("broken", lambda s: 1 / 0 > 1, "info", "never", actions=[]))
    with caplog.at_level(logging.ERROR):
        raised = alerts.check(make_snapshot(memory_percent=90))
    assert fired(raised) == ["high_memory"]
    assert "broken" in caplog.text and "ZeroDivisionError" in caplog.text


def test_subscribers_get_every_alert_and_recent_keeps_the_latest(alerts: AlertManager,
                                                                  clock: FakeClock) -> None:
    heard = []
    unsubscribe = alerts.subscribe(heard.append)
    alerts.check(make_snapshot(memory_percent=97))
    clock.advance(1)
    alerts.check(make_snapshot(memory_percent=50))
    assert [a.status for a in heard] == [FIRING, FIRING, RESOLVED, RESOLVED]
    assert alerts.recent(2) == heard[2:]
    unsubscribe()
    clock.advance(100)
    alerts.check(make_snapshot(memory_percent=97))
    assert len(heard) == 4


def test_seed_rules_come_first_then_the_issue_rules() -> None:
    assert [r.name for r in get_default_rules()] == [
        "high_memory", "critical_memory", "job_stuck", "disk_nearly_full", "node_lost",
        "worker_lost", "job_failed", "job_slow", "qc_non_finite"]
    assert AlertManager().rules == []
    assert [r.name for r in AlertManager().get_default_rules()][:3] == [
        "high_memory", "critical_memory", "job_stuck"]


def test_a_rule_without_any_condition_is_refused() -> None:
    with pytest.raises(ValueError, match="no condition"):
        AlertRule("empty", None, "info", "nothing")
    with pytest.raises(ValueError):
        AlertRule("odd", lambda s: True, "urgent", "not a severity")
    with pytest.raises(ValueError, match="not both"):
        AlertRule("both", None, "info", "x", job_condition=lambda j: True,
                  event_condition=lambda e: True)


# ---------------------------------------------------------------------- resources
def test_disk_nearly_full_names_the_fullest_folder(alerts: AlertManager) -> None:
    disks = (DiskStats("/data/out", "job a1", 100, 93, 7, 93.0),
             DiskStats("/home/u/.seisproc", "home", 100, 40, 60, 40.0))
    raised = alerts.check(make_snapshot(disks=disks))
    assert fired(raised) == ["disk_nearly_full"]
    assert raised[0].message == "Disk nearly full: /data/out at 93%"


def test_node_lost_fires_once_while_the_loss_is_recent(alerts: AlertManager,
                                                       clock: FakeClock) -> None:
    cluster = ClusterStatus((NodeStatus("n1", "10.0.0.1", True), NodeStatus("n2", "10.0.0.2",
                                                                           False)))
    lost = make_snapshot(cluster=cluster, metrics={"nodes_lost_recently": 1.0})
    raised = alerts.check(lost)
    assert fired(raised) == ["node_lost"]
    assert raised[0].severity is Severity.CRITICAL
    assert "1 alive" in raised[0].message
    clock.advance(30)
    assert alerts.check(lost) == []


# ---------------------------------------------------------------------- jobs
def test_job_rules_cool_down_per_job(alerts: AlertManager, clock: FakeClock) -> None:
    stuck_a = running_job("aaaaaaaaaaaa", "line-1", no_progress_seconds=400)
    stuck_b = running_job("bbbbbbbbbbbb", "line-2", no_progress_seconds=320)
    raised = alerts.check(make_snapshot(jobs=(stuck_a, stuck_b)))
    assert sorted((a.rule, a.job_id) for a in raised) == [
        ("job_stuck", "aaaaaaaaaaaa"), ("job_stuck", "bbbbbbbbbbbb")]
    assert "line-1 (aaaaaaaaaaaa) appears stuck - no progress for 400 s" in raised[0].message
    clock.advance(5)
    stuck_c = running_job("cccccccccccc", "line-3", no_progress_seconds=310)
    raised = alerts.check(make_snapshot(jobs=(stuck_a, stuck_b, stuck_c)))
    assert [(a.rule, a.job_id) for a in raised] == [("job_stuck", "cccccccccccc")]


def test_a_job_alert_resolves_when_the_job_is_gone(alerts: AlertManager,
                                                   clock: FakeClock) -> None:
    alerts.check(make_snapshot(jobs=(running_job(no_progress_seconds=400),)))
    clock.advance(1)
    raised = alerts.check(make_snapshot(jobs=()))
    assert [(a.rule, a.status, a.job_id) for a in raised] == [
        ("job_stuck", RESOLVED, "a1b2c3d4e5f6")]
    assert raised[0].message == ("resolved: Job shots-bp (a1b2c3d4e5f6) appears stuck - "
                                 "no progress for 400 s")


def test_job_filter_limits_a_rule_to_matching_jobs(clock: FakeClock) -> None:
    rule = AlertRule("nightly_slow", None, "info", "{job_name} slow", actions=[],
                     job_condition=lambda j: j.traces_per_s < 500, job_filter="nightly-*")
    alerts = AlertManager([rule], clock=clock)
    jobs = (running_job("a" * 12, "nightly-42", traces_per_s=100),
            running_job("b" * 12, "adhoc", traces_per_s=100))
    assert [a.message for a in alerts.check(make_snapshot(jobs=jobs))] == ["nightly-42 slow"]


def test_slow_job_needs_a_prediction_a_minute_of_running_and_a_sustained_minute(
        alerts: AlertManager, clock: FakeClock) -> None:
    unpredicted = running_job("u" * 12, traces_per_s=100)
    young = running_job("y" * 12, traces_per_s=100, predicted_traces_per_s=1000,
                        running_seconds=20)
    slow = running_job("s" * 12, "big-line", traces_per_s=300, predicted_traces_per_s=1000)
    fine = running_job("f" * 12, traces_per_s=800, predicted_traces_per_s=1000)
    raised = []
    for _ in range(61):
        raised += alerts.check(make_snapshot(jobs=(unpredicted, young, slow, fine)))
        clock.advance(1)
    assert [(a.rule, a.job_id) for a in raised] == [("job_slow", "s" * 12)]
    assert raised[0].message == ("Job big-line (ssssssssssss) runs at 300 traces/s, 30% of the "
                                 "1,000 predicted")


def failed_job_event() -> JobEvent:
    job = Job(id="f00dfeed0001", name="bad-input", state=JobState.FAILED,
              error=JobError("SegyFormatError", "bad.sgy: not a SEG-Y file"))
    return JobEvent(JobEventKind.STATE_CHANGED, job, detail={"from": "RUNNING", "to": "FAILED"})


def test_job_failed_event_raises_a_critical_alert_with_the_error(
        alerts: AlertManager, recorder: Recorder) -> None:
    raised = alerts.handle_event(failed_job_event())
    assert [(a.rule, a.severity, a.job_id) for a in raised] == [
        ("job_failed", Severity.CRITICAL, "f00dfeed0001")]
    assert raised[0].message == "Job bad-input (f00dfeed0001) failed: bad.sgy: not a SEG-Y file"
    assert wait_for(lambda: [a.rule for a in recorder.alerts] == ["job_failed"])


def test_events_that_match_no_rule_raise_nothing(alerts: AlertManager) -> None:
    job = Job(id="0123456789ab", name="fine", state=JobState.RUNNING)
    assert alerts.handle_event(JobEvent(JobEventKind.PROGRESS, job)) == []
    assert alerts.check(make_snapshot()) == []
