"""The alert indicator: a badge counting active alerts in the colour of the worst, and the
list of recent alerts (time, severity, message), newest on top.

An alert is *active* from "firing" until its "resolved" notice, matched by rule and job.
Event rules (a job failed, a worker died) raise instants that never resolve: they stay
active for ``instant_ttl_s`` (ten minutes, the window of the "recently lost" metrics),
or until the user clears the badge.

>>> panel = AlertPanel(is_instant=lambda rule: rule == "job_failed")  # doctest: +SKIP
>>> panel.show_alert(alert)                                           # doctest: +SKIP
>>> panel.alert_count(), panel.highest_severity()                     # doctest: +SKIP
(1, 'critical')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seisproc.alerts.rules import Alert, AlertStatus
from seisproc.gui.widgets.severity import (
    alert_severity,
    severity_color,
    severity_label,
    severity_pixmap,
    severity_rank,
)
from seisproc.jobs.model import utcnow

__all__ = ["AlertBadge", "AlertPanel", "AlertTracker", "RecentAlertsList"]

_Key = tuple[str, str | None]


class AlertTracker:
    """Which alerts are active now (plain Python: the badge's state)."""

    def __init__(self, is_instant: Callable[[str], bool] | None = None,
                 instant_ttl_s: float = 600.0) -> None:
        self._is_instant = is_instant or (lambda rule: False)
        self._ttl = timedelta(seconds=instant_ttl_s)
        self._active: dict[_Key, Alert] = {}

    def add(self, alert: Alert) -> None:
        key = (alert.rule, alert.job_id)
        if alert.status is AlertStatus.RESOLVED:
            self._active.pop(key, None)
        else:
            self._active[key] = alert

    def expire(self, now: datetime | None = None) -> bool:
        """Forget instants older than the time to live; whether any went."""
        now = now or utcnow()
        old = [k for k, a in self._active.items()
               if self._is_instant(a.rule) and now - a.at > self._ttl]
        for key in old:
            del self._active[key]
        return bool(old)

    def clear(self) -> None:
        self._active.clear()

    def active(self) -> list[Alert]:
        return list(self._active.values())

    def highest_severity(self) -> str | None:
        """The most urgent active level (``"critical"``, ...), ``None`` when calm."""
        levels = [alert_severity(a) for a in self._active.values()]
        return max(levels, key=severity_rank) if levels else None


class AlertBadge(QLabel):
    """"2 alerts" on the colour of the worst active one; a quiet grey "No alerts"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumWidth(120)
        self.show_state(0, None)

    def show_state(self, count: int, severity: str | None) -> None:
        if count == 0 or severity is None:
            text, background, foreground = "No active alerts", "#e3e7ec", "#5f6b7a"
        else:
            text = f"{count} active alert{'s' if count > 1 else ''}"
            background, foreground = severity_color(severity).name(), "white"
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ background: {background}; color: {foreground}; "
                           "border-radius: 10px; padding: 3px 12px; font-weight: bold; }")


class RecentAlertsList(QTreeWidget):
    """Recent alerts, newest first, at most ``limit`` rows."""

    def __init__(self, limit: int = 200, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._limit = limit
        self.setColumnCount(3)
        self.setHeaderLabels(["Time", "Severity", "Message"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def add(self, alert: Alert) -> None:
        level = alert_severity(alert)
        label = "Resolved" if alert.status is AlertStatus.RESOLVED else severity_label(level)
        item = QTreeWidgetItem([f"{alert.at.astimezone():%H:%M:%S}", label, alert.message])
        item.setIcon(1, QIcon(severity_pixmap(level, 14)))
        item.setToolTip(2, f"{alert.rule}: {alert.message}")
        item.setData(0, Qt.ItemDataRole.UserRole, alert)
        self.insertTopLevelItem(0, item)
        while self.topLevelItemCount() > self._limit:
            self.takeTopLevelItem(self.topLevelItemCount() - 1)

    def alerts(self) -> list[Alert]:
        """The listed alerts, newest first."""
        items = (self.topLevelItem(i) for i in range(self.topLevelItemCount()))
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in items if item is not None]


class AlertPanel(QWidget):
    """Badge, a "Clear" button and the recent alerts list (see the module docstring)."""

    changed = Signal()
    """The active alerts changed: an alert came, resolved, expired or was cleared."""

    def __init__(self, is_instant: Callable[[str], bool] | None = None, *,
                 instant_ttl_s: float = 600.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tracker = AlertTracker(is_instant, instant_ttl_s)
        self.badge = AlertBadge()
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Acknowledge the active alerts (the list keeps them)")
        self.clear_button.clicked.connect(self.clear)
        self.list = RecentAlertsList()
        header = QHBoxLayout()
        header.addWidget(self.badge)
        header.addStretch(1)
        header.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list)
        self._refresh()

    def show_alert(self, alert: Alert) -> None:
        self.tracker.add(alert)
        self.list.add(alert)
        self._refresh()

    def load(self, alerts: Iterable[Alert]) -> None:
        """Replay past alerts, oldest first (an alert manager's ``recent()``)."""
        for alert in alerts:
            self.tracker.add(alert)
            self.list.add(alert)
        self.tracker.expire()
        self._refresh()

    def expire(self, now: datetime | None = None) -> None:
        if self.tracker.expire(now):
            self._refresh()

    def clear(self) -> None:
        self.tracker.clear()
        self._refresh()

    def alert_count(self) -> int:
        return len(self.tracker.active())

    def highest_severity(self) -> str | None:
        return self.tracker.highest_severity()

    def _refresh(self) -> None:
        self.badge.show_state(self.alert_count(), self.highest_severity())
        self.clear_button.setEnabled(self.alert_count() > 0)
        self.changed.emit()
