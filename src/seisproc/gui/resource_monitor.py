"""``ResourceMonitorWidget``: the machine, its GPUs, the workers and the alerts at a glance.

Gauges for CPU and memory (and one per GPU, only where there are GPUs), each over a
sparkline of the last ``history_s`` seconds; the worker table (node, worker, state,
current job) from the cluster probe; the alert badge and the recent alerts.

The :class:`~seisproc.monitoring.monitor.ResourceMonitor` and the
:class:`~seisproc.alerts.manager.AlertManager` call their subscribers on their own
threads, so the widget subscribes :class:`~seisproc.gui.bridge.CoalescingBridge` s and
draws on the GUI thread only. The snapshot bridge is not keyed: every snapshot of a
batch goes into the sparklines' history (a busy GUI thread would otherwise leave gaps),
and only the latest one is drawn.

>>> monitor = ResourceMonitor(cluster=RayClusterProbe(executor)).start()  # doctest: +SKIP
>>> alerts = open_alert_manager(); monitor.subscribe(alerts.check)        # doctest: +SKIP
>>> widget = ResourceMonitorWidget(monitor, alerts)                        # doctest: +SKIP
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from seisproc.alerts.manager import AlertManager
from seisproc.alerts.rules import Alert
from seisproc.gui.bridge import CoalescingBridge
from seisproc.gui.widgets.alert_panel import AlertPanel
from seisproc.gui.widgets.format import format_bytes
from seisproc.gui.widgets.gauge import Gauge
from seisproc.gui.widgets.sparkline import Sparkline
from seisproc.gui.widgets.worker_table import WorkerTableModel
from seisproc.monitoring.monitor import ResourceMonitor
from seisproc.monitoring.snapshot import ClusterStatus, GpuStats, ResourceSnapshot

__all__ = ["ResourceMonitorWidget", "MetricColumn", "cluster_text"]

_CPU, _MEMORY = QColor("#2f80ed"), QColor("#9b59b6")
_GPU, _GPU_MEMORY = QColor("#16a2b8"), QColor("#9b59b6")
"""Series colours (:data:`seisproc.gui.palette.SERIES_HEX`); memory is purple everywhere,
as the gauges' inner memory arc."""
_WARN_AT, _ALARM_AT = 85.0, 95.0
"""The default ``high_memory`` and ``critical_memory`` rules' levels."""
_SIDE_BY_SIDE_PX = 760
"""Narrower than this, the alerts go under the worker table."""


class MetricColumn(QWidget):
    """A gauge over its sparkline: one figure now and over the last minutes."""

    def __init__(self, title: str, window_s: float, *, secondary_label: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gauge = Gauge(title, warn_at=_WARN_AT, alarm_at=_ALARM_AT,
                           secondary_label=secondary_label)
        self.sparkline = Sparkline(window_s)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.gauge)
        layout.addWidget(self.sparkline)
        self.setMinimumWidth(170)


class ResourceMonitorWidget(QWidget):
    """Live view of a :class:`ResourceMonitor` and an :class:`AlertManager`.

    Parameters
    ----------
    monitor
        Snapshots to show; :meth:`set_monitor` may give or change it later. The widget
        subscribes but never starts or stops it (the composition root owns it).
    alerts
        Alerts for the badge and the list; its recent alerts are shown at once.
    history_s
        Seconds of history in the sparklines, filled from ``monitor.history()`` first.
    """

    snapshot_shown = Signal(object)
    """Emitted with each snapshot once it is drawn (one per sample interval)."""
    alert_shown = Signal(object)
    """Emitted with each alert once it is listed."""

    def __init__(self, monitor: ResourceMonitor | None = None,
                 alerts: AlertManager | None = None, parent: QWidget | None = None,
                 history_s: float = 300.0) -> None:
        super().__init__(parent)
        self.history_s = history_s
        self._history: deque[ResourceSnapshot] = deque()
        self._monitor: ResourceMonitor | None = None
        self._alerts: AlertManager | None = None
        self._subscriptions = _Subscriptions()
        self._preloaded: list[Alert] = []
        self._snapshot_bridge: CoalescingBridge[ResourceSnapshot] = CoalescingBridge(
            interval_ms=50, parent=self)
        self._snapshot_bridge.delivered.connect(self._on_snapshots)
        self._alert_bridge: CoalescingBridge[Alert] = CoalescingBridge(interval_ms=50,
                                                                       parent=self)
        self._alert_bridge.delivered.connect(self._on_alerts)
        self._gpu_columns: dict[int, MetricColumn] = {}
        self._build()
        self.destroyed.connect(self._subscriptions.cancel_all)
        self.set_monitor(monitor)
        self.set_alerts(alerts)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.cpu_column = MetricColumn("CPU", self.history_s)
        self.cpu_column.sparkline.add_series("cpu", _CPU, fill=True)
        self.memory_column = MetricColumn("Memory", self.history_s)
        self.memory_column.sparkline.add_series("memory", _MEMORY, fill=True)
        self.cpu_gauge, self.memory_gauge = self.cpu_column.gauge, self.memory_column.gauge
        gauges = QWidget()
        self._gauges = QHBoxLayout(gauges)
        self._gauges.setContentsMargins(0, 0, 0, 0)
        self._gauges.addWidget(self.cpu_column)
        self._gauges.addWidget(self.memory_column)
        self.updated_label = QLabel()
        self.updated_label.setStyleSheet("color: #5f6b7a")
        self.worker_model = WorkerTableModel(self)
        self.worker_view = _worker_view(self.worker_model)
        self.cluster_label = QLabel()
        self.cluster_label.setWordWrap(True)
        self.alert_panel = AlertPanel(self._is_instant)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(_group("Workers", self.cluster_label, self.worker_view))
        self.splitter.addWidget(_group("Alerts", self.alert_panel))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(_scrolling(gauges))
        layout.addWidget(self.updated_label)
        layout.addWidget(self.splitter, 1)
        self._clear()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Workers beside alerts when there is room, above them in a narrow dock."""
        wide = event.size().width() >= _SIDE_BY_SIDE_PX
        self.splitter.setOrientation(Qt.Orientation.Horizontal if wide
                                     else Qt.Orientation.Vertical)
        super().resizeEvent(event)

    # ------------------------------------------------------------------ sources
    def set_monitor(self, monitor: ResourceMonitor | None) -> None:
        """Show ``monitor``'s snapshots from now on (none with ``None``), starting with
        its ring buffer's last ``history_s`` seconds."""
        self._subscriptions.cancel("monitor")
        self._monitor = monitor
        self._history.clear()
        self._clear()
        if monitor is None:
            return
        self._subscriptions.add("monitor", monitor.subscribe(self._snapshot_bridge))
        past = monitor.history()
        if past:
            self._on_snapshots(past)

    def set_alerts(self, alerts: AlertManager | None) -> None:
        """Take alerts from ``alerts`` from now on, after listing its recent ones."""
        self._subscriptions.cancel("alerts")
        self._alerts = alerts
        if alerts is None:
            return
        self._subscriptions.add("alerts", alerts.subscribe(self._alert_bridge))
        self._preloaded = alerts.recent()
        self.alert_panel.load(self._preloaded)

    def detach(self) -> None:
        """Stop listening to the monitor and the alert manager (also done on destruction)."""
        self._subscriptions.cancel_all()

    @property
    def monitor(self) -> ResourceMonitor | None:
        return self._monitor

    @property
    def alerts(self) -> AlertManager | None:
        return self._alerts

    # ------------------------------------------------------------------ GUI thread
    @Slot(list)
    def _on_snapshots(self, batch: list[ResourceSnapshot]) -> None:
        for snapshot in batch[:-1]:
            self._remember(snapshot)
        self.show_snapshot(batch[-1])

    @Slot(list)
    def _on_alerts(self, batch: list[Alert]) -> None:
        preloaded, self._preloaded = self._preloaded, []
        for alert in batch:
            if not any(alert is seen for seen in preloaded):
                self.show_alert(alert)

    def show_snapshot(self, snapshot: ResourceSnapshot) -> None:
        """Draw ``snapshot`` (GUI thread only): gauges, sparklines, workers, the time."""
        self._remember(snapshot)
        self._show_cpu(snapshot)
        self._show_memory(snapshot)
        self._show_gpus(snapshot.gpus)
        self._draw_sparklines()
        self._show_cluster(snapshot.cluster, {j.job_id: j.name for j in snapshot.jobs})
        interval = f" · every {snapshot.interval_s:.1f} s" if snapshot.interval_s else ""
        self.updated_label.setText(f"Updated {snapshot.at.astimezone():%H:%M:%S}{interval}")
        self.alert_panel.expire()
        self.snapshot_shown.emit(snapshot)

    def show_alert(self, alert: Alert) -> None:
        """List ``alert`` and update the badge (GUI thread only)."""
        self.alert_panel.show_alert(alert)
        self.alert_shown.emit(alert)

    def latest_snapshot(self) -> ResourceSnapshot | None:
        return self._history[-1] if self._history else None

    def history(self) -> list[ResourceSnapshot]:
        """The snapshots the sparklines draw, oldest first."""
        return list(self._history)

    def alert_count(self) -> int:
        """Active alerts: firing and not resolved (see :class:`AlertPanel`)."""
        return self.alert_panel.alert_count()

    def highest_severity(self) -> str | None:
        return self.alert_panel.highest_severity()

    def gpu_gauges(self) -> list[Gauge]:
        return [column.gauge for _, column in sorted(self._gpu_columns.items())]

    # ------------------------------------------------------------------ drawing
    def _clear(self) -> None:
        """Nothing measured yet: gauges at ``-``, empty charts, no GPU, no workers."""
        for gauge in (self.cpu_gauge, self.memory_gauge):
            gauge.set_value(None)
        self.cpu_column.sparkline.set_series("cpu", [], [])
        self.memory_column.sparkline.set_series("memory", [], [])
        self._show_gpus(())
        self._show_cluster(None)
        self.updated_label.setText("Waiting for the first sample…")

    def _remember(self, snapshot: ResourceSnapshot) -> None:
        """Keep the last ``history_s`` seconds; a snapshot not newer than the latest was
        seen already (delivered while :meth:`set_monitor` read the ring buffer)."""
        if self._history and snapshot.monotonic_s <= self._history[-1].monotonic_s:
            return
        self._history.append(snapshot)
        while snapshot.monotonic_s - self._history[0].monotonic_s > self.history_s:
            self._history.popleft()

    def _show_cpu(self, s: ResourceSnapshot) -> None:
        cores = len(s.cpu_per_core)
        self.cpu_gauge.set_value(s.cpu_percent, f"{cores} core{'s' if cores != 1 else ''}"
                                 if cores else "")

    def _show_memory(self, s: ResourceSnapshot) -> None:
        detail = (f"{format_bytes(s.memory_used_bytes)} of "
                  f"{format_bytes(s.memory_total_bytes)}")
        self.memory_gauge.set_value(s.memory_percent, detail)

    def _show_gpus(self, gpus: Iterable[GpuStats]) -> None:
        """One column per GPU; columns come and go with the GPUs the snapshot lists."""
        by_index = {g.index: g for g in gpus}
        for index in set(self._gpu_columns) - set(by_index):
            self._gpu_columns.pop(index).deleteLater()
        for index, gpu in sorted(by_index.items()):
            column = self._gpu_columns.get(index) or self._add_gpu_column(index)
            temperature = "" if gpu.temperature_c is None else f" · {gpu.temperature_c:.0f} °C"
            column.gauge.set_value(
                gpu.utilization_percent, secondary=gpu.memory_percent,
                detail=f"{format_bytes(gpu.memory_used_bytes)} of "
                       f"{format_bytes(gpu.memory_total_bytes)}{temperature}")
            column.setToolTip(f"{gpu.name}: {format_bytes(gpu.memory_used_bytes)} of "
                              f"{format_bytes(gpu.memory_total_bytes)} in use")

    def _add_gpu_column(self, index: int) -> MetricColumn:
        column = MetricColumn(f"GPU {index}", self.history_s, secondary_label="mem")
        column.sparkline.add_series("utilization", _GPU, fill=True)
        column.sparkline.add_series("memory", _GPU_MEMORY)
        self._gpu_columns[index] = column
        self._gauges.addWidget(column)
        return column

    def _draw_sparklines(self) -> None:
        if not self._history:
            return
        now = self._history[-1].monotonic_s
        ages = [s.monotonic_s - now for s in self._history]
        self.cpu_column.sparkline.set_series("cpu", ages, [s.cpu_percent for s in self._history])
        self.memory_column.sparkline.set_series(
            "memory", ages, [s.memory_percent for s in self._history])
        for index, column in self._gpu_columns.items():
            points = [(age, g) for age, s in zip(ages, self._history, strict=True)
                      for g in s.gpus if g.index == index]
            column.sparkline.set_series("utilization", [a for a, _ in points],
                                        [g.utilization_percent for _, g in points])
            column.sparkline.set_series("memory", [a for a, _ in points],
                                        [g.memory_percent for _, g in points])

    def _show_cluster(self, cluster: ClusterStatus | None,
                      job_names: dict[str, str] | None = None) -> None:
        self.worker_model.set_cluster(cluster, job_names)
        if cluster is None:
            self.cluster_label.setText("No cluster figures: the monitor has no Ray probe, "
                                       "or the probe failed this time.")
            return
        self.cluster_label.setText(cluster_text(cluster))

    def _is_instant(self, rule: str) -> bool:
        """Whether ``rule`` watches job events (its alerts never resolve)."""
        alerts = self._alerts
        return alerts is not None and any(
            r.name == rule and r.event_condition is not None for r in alerts.rules)


def cluster_text(cluster: ClusterStatus) -> str:
    """The line above the worker table.

    Before this window runs a job it is on no Ray, and the probe reads seisproc's local
    service instead (the one ``seisproc run`` in a terminal uses): its workers are then
    ``warm``, busy or idle being known only to the process using them.

    >>> cluster_text(ClusterStatus())
    'No Ray running: seisproc starts its local service with the first job'
    """
    if not cluster.nodes:
        return "No Ray running: seisproc starts its local service with the first job"
    busy = sum(1 for w in cluster.workers if w.state == "busy")
    warm = sum(1 for w in cluster.workers if w.state == "warm")
    dead = f", {cluster.nodes_dead} dead" if cluster.nodes_dead else ""
    workers = (f"{len(cluster.workers)} workers of the local service, shared by every "
               "seisproc run (busy or idle is known to the process using them)"
               if warm == len(cluster.workers) and warm else
               f"{len(cluster.workers)} workers, {busy} busy")
    return (f"{cluster.nodes_alive} node{'s' if cluster.nodes_alive != 1 else ''} alive{dead}"
            f" · {workers} · {cluster.workers_lost} lost since start")


class _Subscriptions:
    """Unsubscribe functions by name; a plain object, so that the widget's ``destroyed``
    signal can call it after the Python wrapper of the widget is gone."""

    def __init__(self) -> None:
        self._cancels: dict[str, Callable[[], None]] = {}

    def add(self, name: str, cancel: Callable[[], None]) -> None:
        self.cancel(name)
        self._cancels[name] = cancel

    def cancel(self, name: str) -> None:
        cancel = self._cancels.pop(name, None)
        if cancel is not None:
            cancel()

    def cancel_all(self) -> None:
        for name in list(self._cancels):
            self.cancel(name)


def _worker_view(model: WorkerTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


def _scrolling(content: QWidget) -> QScrollArea:
    """``content`` in a strip that scrolls sideways when many GPUs make it too wide."""
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scrollbar = area.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    area.setFixedHeight(content.sizeHint().height() + scrollbar + 2)
    return area


def _group(title: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    for widget in widgets:
        layout.addWidget(widget)
    return box
