"""The resource monitor widget: gauges, sparklines, the worker table, the alert indicator.

The seed's three tests come first; the real ``ResourceMonitor`` and ``AlertManager``
drive them, from their own threads, as in the application.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import shiboken6
from monitor_helpers import alert, gpu, make_snapshot, two_node_cluster
from PySide6.QtCore import QModelIndex, Qt

from seisproc.alerts import AlertManager, Severity, get_default_rules
from seisproc.gui.resource_monitor import ResourceMonitorWidget
from seisproc.gui.widgets import AlertTracker
from seisproc.jobs.model import utcnow
from seisproc.monitoring import ClusterStatus, JobMetrics, ResourceMonitor, ResourceSnapshot


@pytest.fixture
def alerts():
    manager = AlertManager(get_default_rules())
    yield manager
    manager.close()


def quiet_monitor(home: Path, interval_s: float = 1.0) -> ResourceMonitor:
    """A real monitor of this machine, without GPUs or a cluster."""
    return ResourceMonitor(interval_s=interval_s, gpus=lambda: (), home=home)


def check_on_a_thread(alerts: AlertManager, snapshot: ResourceSnapshot) -> None:
    """What the monitor does: alert rules run on its sampling thread, not the GUI's."""
    thread = threading.Thread(target=alerts.check, args=(snapshot,))
    thread.start()
    thread.join()


def test_widget_displays_cpu_usage(qtbot):
    """Resource widget shows CPU usage."""
    widget = ResourceMonitorWidget()
    qtbot.addWidget(widget)
    widget.show_snapshot(make_snapshot(cpu=42.4, memory=61.0))

    assert widget.cpu_gauge.value() == pytest.approx(42.4)
    assert widget.cpu_gauge.text() == "CPU 42 % · 4 cores"
    assert widget.memory_gauge.text() == "Memory 61 % · 9.8 GB of 16.0 GB"
    ages, values = widget.cpu_column.sparkline.series_data("cpu")
    assert list(ages) == [0.0] and list(values) == [pytest.approx(42.4)]
    assert widget.gpu_gauges() == []  # no GPU in the snapshot, no GPU gauge


def test_widget_shows_memory_alerts(qtbot, alerts):
    """Resource widget indicates memory alerts (default rules, through the real manager)."""
    widget = ResourceMonitorWidget(alerts=alerts)
    qtbot.addWidget(widget)
    assert widget.alert_count() == 0 and widget.alert_panel.badge.text() == "No active alerts"

    high = make_snapshot(memory=96.0)
    widget.show_snapshot(high)
    check_on_a_thread(alerts, high)  # high_memory (> 85) and critical_memory (> 95) fire
    qtbot.waitUntil(lambda: widget.alert_count() == 2, timeout=2_000)

    assert widget.highest_severity() == "critical"
    assert widget.alert_panel.badge.text() == "2 active alerts"
    assert widget.memory_gauge.color().name() == "#d64541"  # the gauge is red too
    assert {a.rule for a in widget.alert_panel.list.alerts()} == {"high_memory",
                                                                  "critical_memory"}
    assert "Memory at 96%" in " ".join(a.message for a in widget.alert_panel.list.alerts())

    check_on_a_thread(alerts, make_snapshot(memory=50.0, monotonic_s=1001.0))
    qtbot.waitUntil(lambda: widget.alert_count() == 0, timeout=2_000)
    assert widget.alert_panel.badge.text() == "No active alerts"
    assert len(widget.alert_panel.list.alerts()) == 4  # both fired, both resolved


def test_widget_updates_in_realtime(qtbot, tmp_path):
    """Resource widget updates every sample interval (a real monitor at 10 Hz)."""
    monitor = quiet_monitor(tmp_path, interval_s=0.1)
    widget = ResourceMonitorWidget(monitor)
    qtbot.addWidget(widget)
    shown: list[tuple[ResourceSnapshot, float]] = []
    widget.snapshot_shown.connect(lambda s: shown.append((s, time.monotonic())))
    monitor.start()
    try:
        qtbot.waitUntil(lambda: len(shown) >= 6, timeout=5_000)
    finally:
        monitor.stop()
    qtbot.wait(100)  # the bridge delivers what was posted before the stop

    sampled = [s.monotonic_s for s in monitor.history()]
    assert [s.monotonic_s for s in widget.history()] == sampled  # none lost, none twice
    times = [s.monotonic_s for s, _ in shown]
    assert times == sorted(set(times))  # each update a newer sample
    assert max(at - s.monotonic_s for s, at in shown) < 2.0  # drawn soon after sampling
    latest = widget.latest_snapshot()
    assert latest is not None and latest.monotonic_s == sampled[-1]
    assert widget.cpu_gauge.value() == pytest.approx(min(100.0, latest.cpu_percent))
    assert widget.updated_label.text().startswith("Updated ")


def test_sparklines_start_with_the_monitor_history(qtbot, tmp_path):
    monitor = quiet_monitor(tmp_path)
    taken = [monitor.sample() for _ in range(3)]
    widget = ResourceMonitorWidget(monitor, history_s=120)
    qtbot.addWidget(widget)

    ages, values = widget.memory_column.sparkline.series_data("memory")
    assert len(ages) == 3 and ages[-1] == 0.0 and ages[0] < 0
    assert list(values) == pytest.approx([s.memory_percent for s in taken])
    assert widget.memory_column.sparkline.captions() == ("-2 min", "0-100 %", "now")


def test_sparklines_keep_only_the_last_history_seconds(qtbot):
    widget = ResourceMonitorWidget(history_s=10)
    qtbot.addWidget(widget)
    for t in range(30):
        widget.show_snapshot(make_snapshot(cpu=float(t), monotonic_s=1000.0 + t))
    ages, values = widget.cpu_column.sparkline.series_data("cpu")
    assert list(ages) == [float(a) for a in range(-10, 1)]
    assert values[-1] == 29.0


def test_gpu_gauges_appear_only_when_the_snapshot_lists_gpus(qtbot):
    widget = ResourceMonitorWidget()
    qtbot.addWidget(widget)
    widget.show_snapshot(make_snapshot(gpus=(gpu(0, 75.0, 20.0), gpu(1, 10.0, 40.0))))

    gauges = widget.gpu_gauges()
    assert [g.title() for g in gauges] == ["GPU 0", "GPU 1"]
    assert gauges[0].value() == 75.0 and gauges[0].secondary_value() == pytest.approx(25.0)
    assert gauges[1].text() == "GPU 1 10 % · mem 50 % · 40.0 GB of 80.0 GB · 60 °C"

    widget.show_snapshot(make_snapshot(monotonic_s=1001.0))
    assert widget.gpu_gauges() == []


def test_worker_table_lists_node_worker_state_and_current_job(qtbot):
    widget = ResourceMonitorWidget()
    qtbot.addWidget(widget)
    job = JobMetrics("job000000001", "nightly-stack", "RUNNING")
    widget.show_snapshot(make_snapshot(cluster=two_node_cluster(job.job_id), jobs=(job,)))
    model = widget.worker_model

    rows = [[model.data(model.index(r, c)) for c in range(model.columnCount())]
            for r in range(model.rowCount())]
    assert rows == [
        ["10.0.0.1 (aaaaaaaa)", "11111111", "cpu", "busy (+1 queued)",
         "nightly-stack (job000000001)"],
        ["10.0.0.1 (aaaaaaaa)", "22222222", "cuda", "busy", "nightly-stack (job000000001)"],
        ["10.0.0.2 (bbbbbbbb)", "33333333", "cpu", "idle", "-"]]
    assert widget.cluster_label.text() == "2 nodes alive · 3 workers, 2 busy · 0 lost since start"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == "a" * 56


def test_worker_rows_update_in_place_while_the_workers_stay(qtbot):
    widget = ResourceMonitorWidget()
    qtbot.addWidget(widget)
    widget.show_snapshot(make_snapshot(cluster=two_node_cluster("job000000001")))
    widget.worker_view.selectRow(2)
    with qtbot.assertNotEmitted(widget.worker_model.modelReset):
        widget.show_snapshot(make_snapshot(cluster=two_node_cluster("job000000002"),
                                           monotonic_s=1001.0))
    assert widget.worker_model.data(widget.worker_model.index(0, 4)) == "job000000002"
    assert [i.row() for i in widget.worker_view.selectionModel().selectedRows()] == [2]
    widget.show_snapshot(make_snapshot(monotonic_s=1002.0))  # the probe failed this time
    assert widget.worker_model.rowCount(QModelIndex()) == 0
    assert widget.cluster_label.text().startswith("No cluster figures")


def test_recent_alerts_are_listed_at_once_and_new_ones_on_top(qtbot, alerts):
    check_on_a_thread(alerts, make_snapshot(memory=90.0))
    widget = ResourceMonitorWidget(alerts=alerts)
    qtbot.addWidget(widget)
    assert [a.rule for a in widget.alert_panel.list.alerts()] == ["high_memory"]
    assert widget.alert_count() == 1 and widget.highest_severity() == "warning"

    with qtbot.waitSignal(widget.alert_shown, timeout=2_000):
        check_on_a_thread(alerts, make_snapshot(memory=97.0, monotonic_s=1001.0))
    qtbot.wait(100)
    assert [a.rule for a in widget.alert_panel.list.alerts()] == ["critical_memory",
                                                                  "high_memory"]
    widget.alert_panel.clear_button.click()
    assert widget.alert_count() == 0 and len(widget.alert_panel.list.alerts()) == 2


def test_event_alerts_count_until_they_age_out():
    tracker = AlertTracker(is_instant=lambda rule: rule == "job_failed", instant_ttl_s=600)
    tracker.add(alert("job_failed", Severity.CRITICAL, job_id="j1"))
    tracker.add(alert("high_memory"))
    assert tracker.highest_severity() == "critical"

    assert tracker.expire(utcnow() + timedelta(seconds=601))
    assert [a.rule for a in tracker.active()] == ["high_memory"]  # a state alert waits
    tracker.add(alert("high_memory", resolved=True))                # for its "resolved"
    assert tracker.active() == [] and tracker.highest_severity() is None


def test_a_destroyed_widget_stops_listening(qtbot, tmp_path, alerts, caplog):
    monitor = quiet_monitor(tmp_path)
    widget = ResourceMonitorWidget(monitor, alerts)
    widget.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(widget), timeout=2_000)
    with caplog.at_level(logging.ERROR):
        monitor.sample()
        alerts.check(make_snapshot(memory=99.0))
    assert not [r for r in caplog.records if "subscriber" in r.getMessage()]



# ---------------------------------------------------------------------- jobs of other processes
def test_with_no_ray_running_the_monitor_says_so_instead_of_zero_nodes(qtbot):
    widget = ResourceMonitorWidget()
    qtbot.addWidget(widget)
    widget.show_snapshot(make_snapshot(cluster=ClusterStatus()))
    assert widget.cluster_label.text() == ("No Ray running: seisproc starts its local "
                                           "service with the first job")


def _run_until_done(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run([sys.executable, "-m", "seisproc", *args], env=env, timeout=timeout,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_a_window_on_no_ray_shows_the_local_service_nodes_and_workers_a_terminal_uses(
        qtbot, tmp_path: Path, small_survey: Path) -> None:
    """``seisproc run`` starts seisproc's local Ray service and its warm workers; a process
    on no Ray (the window before its first job) reads them from the service, read-only,
    and says what it cannot know (which of them is busy)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SEISPROC_RAY_ADDRESS", "RAY_ADDRESS")}
    env["SEISPROC_HOME"] = str(tmp_path / "home")
    flow = tmp_path / "flow.yaml"
    flow.write_text(f"name: service\ninput: {small_survey}\noutput: {tmp_path / 'out.sgy'}\n"
                    "gather_by: ffid\nsteps:\n  - agc: {window_ms: 500}\n")
    try:
        _run_until_done(env, "run", str(flow))
        probe = ("import json; from seisproc.orchestration.probe import RayClusterProbe; "
                 "print(json.dumps(RayClusterProbe()().to_dict()))")
        done = subprocess.run([sys.executable, "-c", probe], env=env, timeout=120,
                              capture_output=True, text=True, check=True)
        cluster = ClusterStatus.from_dict(json.loads(done.stdout.splitlines()[-1]))
    finally:
        _run_until_done(env, "service", "stop", timeout=120)
    assert cluster.nodes_alive == 1 and cluster.nodes[0].cpus_total > 0
    assert cluster.workers and {w.state for w in cluster.workers} == {"warm"}
    assert {w.node_id for w in cluster.workers} == {cluster.nodes[0].node_id}
    widget = ResourceMonitorWidget()
    qtbot.addWidget(widget)
    widget.show_snapshot(make_snapshot(cluster=cluster))
    assert widget.cluster_label.text().startswith(
        f"1 node alive · {len(cluster.workers)} workers of the local service")
    assert widget.worker_model.rowCount() == len(cluster.workers)
