"""Screenshots of the resource monitor widget and of stacked toasts, for the docs.

Run under a display (Xvfb), from the repository root::

    Xvfb :92 -screen 0 1600x1000x24 & DISPLAY=:92 PYTHONPATH=src \\
        python scripts/screenshots/resource_monitor.py

Writes ``docs/images/resource_monitor.png`` and ``docs/images/toasts.png``. The data is
made up but shaped like a real run: five minutes of samples of a two-node cluster with a
GPU, four workers busy on two jobs, memory high enough to raise the default alert.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QElapsedTimer
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QStatusBar,
    QTableWidget,
    QTableWidgetItem,
)

from seisproc.alerts import Alert, AlertManager, AlertStatus, Severity, get_default_rules
from seisproc.gui.resource_monitor import ResourceMonitorWidget
from seisproc.gui.toast import ToastNotification
from seisproc.jobs.model import utcnow
from seisproc.monitoring.snapshot import (
    ClusterStatus,
    GpuStats,
    JobMetrics,
    NodeStatus,
    ResourceSnapshot,
    WorkerInfo,
)

OUT = Path("docs/images")
GB = 1024**3
NODES = (NodeStatus("3f9a6c1e" + "0" * 48, "10.0.0.11", True, 16, 2, 2, 2),
         NodeStatus("b71d04aa" + "1" * 48, "10.0.0.12", True, 16, 2, 2, 1))
JOBS = (JobMetrics("a41f2c9e7d10", "nightly-stack", "RUNNING", fraction=0.62,
                   traces_per_s=41_200),
        JobMetrics("c0de5e1f22ab", "decon-line-12", "RUNNING", fraction=0.18,
                   traces_per_s=9_800))
WORKERS = (WorkerInfo(NODES[0].node_id, "8c1d27f0" + "a" * 24, "cpu", "busy", JOBS[0].job_id, 2),
           WorkerInfo(NODES[0].node_id, "19e4b6a2" + "b" * 24, "cuda", "busy", JOBS[1].job_id, 1),
           WorkerInfo(NODES[1].node_id, "5b0f93c4" + "c" * 24, "cpu", "busy", JOBS[0].job_id, 2),
           WorkerInfo(NODES[1].node_id, "e27a8d15" + "d" * 24, "cpu", "idle", None, 0))


def snapshot(age_s: float, end_monotonic: float) -> ResourceSnapshot:
    """The sample taken ``age_s`` seconds before the last one."""
    t = 300 - age_s
    cpu = 55 + 30 * math.sin(t / 23) + 8 * math.sin(t / 3.1)
    memory = 62 + 28 * (t / 300) ** 2 + 1.5 * math.sin(t / 7)
    gpu_util = 40 + 45 * (0.5 + 0.5 * math.sin(t / 17))
    gpu_memory = 30 + 25 * (t / 300)
    return ResourceSnapshot(
        at=utcnow() - timedelta(seconds=age_s), monotonic_s=end_monotonic - age_s,
        interval_s=1.0, cpu_percent=max(0.0, min(100.0, cpu)),
        cpu_per_core=tuple(cpu for _ in range(16)), memory_percent=memory,
        memory_used_bytes=int(memory / 100 * 64 * GB), memory_total_bytes=64 * GB,
        swap_percent=2.0,
        gpus=(GpuStats(0, "NVIDIA A100-SXM4-80GB", gpu_util, int(gpu_memory / 100 * 80 * GB),
                       80 * GB, 63.0),),
        cluster=ClusterStatus(NODES, workers_lost=1, workers=WORKERS), jobs=JOBS)


def settle(app: QApplication, ms: int, until: Callable[[], bool] = lambda: True) -> None:
    """Process events for ``ms`` at least, and on (up to 10 s) until ``until()`` holds:
    an alert comes through the bridge, whose timer a loaded machine may delay."""
    clock = QElapsedTimer()
    clock.start()
    while clock.elapsed() < ms or (not until() and clock.elapsed() < 10_000):
        app.processEvents()


def resource_monitor(app: QApplication) -> None:
    alerts = AlertManager(get_default_rules())
    try:
        widget = ResourceMonitorWidget(alerts=alerts)
        widget.resize(1280, 760)
        widget.show()
        for age in range(300, -1, -1):
            widget.show_snapshot(snapshot(float(age), 10_000.0))
        alerts.check(widget.history()[-1])  # memory at ~90 %: the high_memory rule fires
        widget.show_alert(Alert("worker_lost", Severity.WARNING, AlertStatus.FIRING,
                                "Worker lost on node b71d04aa running job nightly-stack "
                                "(a41f2c9e7d10); unit 214 is retried",
                                at=utcnow() - timedelta(seconds=95), job_id="a41f2c9e7d10"))
        widget.show_alert(Alert("job_slow", Severity.WARNING, AlertStatus.RESOLVED,
                                "resolved: Job decon-line-12 (c0de5e1f22ab) runs at 9,800 "
                                "traces/s", at=utcnow() - timedelta(seconds=40)))
        settle(app, 400, until=lambda: len(widget.alert_panel.list.alerts()) == 3)
        widget.grab().save(str(OUT / "resource_monitor.png"))
    finally:
        alerts.close()


def toasts(app: QApplication) -> None:
    window = QMainWindow()
    window.setWindowTitle("seisproc")
    table = QTableWidget(6, 4)
    table.setHorizontalHeaderLabels(["Job", "State", "Progress", "Traces/s"])
    rows = [("nightly-stack", "RUNNING", "62 %", "41,200"),
            ("decon-line-12", "RUNNING", "18 %", "9,800"),
            ("line-07-agc", "COMPLETED", "100 %", "-"), ("mute-test", "FAILED", "35 %", "-"),
            ("bandpass-3d", "QUEUED", "0 %", "-"), ("line-09-gain", "QUEUED", "0 %", "-")]
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.horizontalHeader().setStretchLastSection(True)
    window.setCentralWidget(table)
    status = QStatusBar()
    status.addWidget(QLabel("Ray: 2 nodes, 4 workers"))
    window.setStatusBar(status)
    window.resize(960, 560)
    window.show()
    settle(app, 100)
    toasts = [ToastNotification.show_toast("line-07-agc (5e1f22abc0de) finished in 4 min "
                                           "12 s, 1,204,800 traces", "success", 0, window,
                                           title="Job completed"),
              ToastNotification.show_toast("Memory usage at 91%", "warning", 0, window,
                                           title="High memory"),
              ToastNotification.show_toast("mute-test (9d10a41f2c7e): mute time 5200 ms is "
                                           "past the end of the trace (4000 ms)", "critical",
                                           0, window, title="Job failed")]
    settle(app, 700, until=lambda: all(t.is_settled() for t in toasts))
    window.grab().save(str(OUT / "toasts.png"))


def main() -> int:
    app = QApplication(sys.argv)
    app.setStyle("Fusion")
    OUT.mkdir(parents=True, exist_ok=True)
    resource_monitor(app)
    toasts(app)
    print(f"wrote {OUT / 'resource_monitor.png'} and {OUT / 'toasts.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
