"""Toasts: short notices that slide in at the bottom-right corner and go by themselves.

:meth:`ToastNotification.show_toast` shows one over a window (the active one by default)
or, with no window at all, as a small frameless window at the screen's corner. Toasts of
one window stack upwards without overlapping (:class:`ToastStack`); when one goes, those
above it slide down. A click dismisses a toast; so does its timer, after ``duration_ms``.
The level (``info``, ``success``, ``warning``, ``error``, ``critical``, or an alert's
:class:`~seisproc.alerts.rules.Severity`) shows as the accent colour and the icon.

Two helpers wire the core to toasts, crossing threads through a
:class:`~seisproc.gui.bridge.CoalescingBridge`: :func:`connect_toast_bus` (the alert
manager's ``toast`` action) and :func:`connect_job_toasts` (a job completed or failed).

>>> ToastNotification.show_toast("Survey indexed", "success", 3000)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import (
    QCoreApplication,
    QEasingCurve,
    QEvent,
    QObject,
    QPoint,
    QPointF,
    QPropertyAnimation,
    QRect,
    QRectF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from seisproc.alerts.actions import ToastBus
from seisproc.alerts.rules import Alert, AlertStatus, Severity
from seisproc.gui.bridge import CoalescingBridge
from seisproc.gui.widgets.severity import (
    alert_severity,
    normalize_severity,
    severity_color,
    severity_label,
    severity_pixmap,
)
from seisproc.jobs.events import JobEvent, JobEventKind, Subscriber
from seisproc.jobs.model import Job, JobState

__all__ = [
    "ToastNotification",
    "ToastStack",
    "connect_job_toasts",
    "connect_toast_bus",
    "default_duration_ms",
    "toast_alert",
]

_BACKGROUND, _TEXT, _MUTED = QColor("#2b2f36"), QColor("#f5f7fa"), QColor("#c3cad3")
_DURATIONS_MS = {"info": 5000, "success": 5000, "warning": 8000, "error": 12000,
                 "critical": 15000}


def default_duration_ms(severity: str | Severity) -> int:
    """How long a toast of this level stays: longer for what needs reading twice."""
    return _DURATIONS_MS[normalize_severity(severity)]


class ToastStack(QObject):
    """The toasts over one window (or over the screen), stacked upwards from its
    bottom-right corner, oldest lowest, ``spacing`` pixels apart.

    A toast that would not fit any more pushes the oldest out. The stack follows the
    window's resizes. Use :meth:`for_parent` rather than the constructor: one stack per
    window.
    """

    margin, spacing = 16, 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else QCoreApplication.instance())
        self.setObjectName("seisproc-toast-stack")
        self._window = parent
        self._toasts: list[ToastNotification] = []
        if parent is not None:
            parent.installEventFilter(self)

    @classmethod
    def for_parent(cls, parent: QWidget | None) -> ToastStack:
        """The stack of ``parent``; the screen's stack for ``None``."""
        owner: QObject | None = parent if parent is not None else QCoreApplication.instance()
        if owner is None:
            raise RuntimeError("toasts need a QApplication")
        found = owner.findChild(ToastStack, "seisproc-toast-stack",
                                Qt.FindChildOption.FindDirectChildrenOnly)
        return found if isinstance(found, ToastStack) else cls(parent)

    def toasts(self) -> list[ToastNotification]:
        """The toasts shown or arriving, oldest first (leaving ones excluded)."""
        return list(self._toasts)

    def area(self) -> QRect:
        """Where toasts go, in their own coordinates: the window's rectangle, or the
        screen's available geometry for top-level toasts."""
        if self._window is not None:
            area = self._window.rect()
            if isinstance(self._window, QMainWindow):  # keep the status bar readable
                bars = self._window.findChildren(QStatusBar, "",
                                                 Qt.FindChildOption.FindDirectChildrenOnly)
                for bar in (b for b in bars if b.isVisible()):
                    area.setBottom(min(area.bottom(), bar.geometry().top() - 1))
            return area
        screen = QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)

    def add(self, toast: ToastNotification) -> None:
        """Take ``toast`` in, placed just past the right edge at its height in the stack,
        and slide it (and any others that must move) into place."""
        self._toasts.append(toast)
        toast.move(self.offstage_x(), self.targets()[-1].y())
        height = sum(t.height() + self.spacing for t in self._toasts)
        while len(self._toasts) > 1 and height > self.area().height() - 2 * self.margin:
            oldest = self._toasts[0]
            height -= oldest.height() + self.spacing
            oldest.dismiss()
        self.reflow()

    def remove(self, toast: ToastNotification) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)
            self.reflow()

    def targets(self) -> list[QPoint]:
        """Where each toast belongs, oldest first: bottom-right corner, going up."""
        area, points = self.area(), []
        bottom = area.bottom() + 1 - self.margin
        for toast in self._toasts:
            bottom -= toast.height()
            points.append(QPoint(area.right() + 1 - self.margin - toast.width(), bottom))
            bottom -= self.spacing
        return points

    def offstage_x(self) -> int:
        """Just past the area's right edge: where toasts slide in from and out to."""
        return self.area().right() + 1

    def reflow(self, animate: bool = True) -> None:
        for toast, target in zip(self._toasts, self.targets(), strict=True):
            toast.slide_to(target, animate)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self.reflow(animate=False)
        return False


class ToastNotification(QWidget):
    """Animated toast notification (see the module docstring).

    Parameters
    ----------
    message
        The text; long ones wrap.
    severity
        ``info``, ``success``, ``warning``, ``error``, ``critical`` or a
        :class:`~seisproc.alerts.rules.Severity`.
    duration_ms
        Milliseconds on screen before it leaves by itself; 0 or less: until clicked.
    parent
        The window to show over; ``None`` makes a frameless top-level toast.
    title
        A bold first line; the level's name (``"Warning"``) by default.
    """

    dismissed = Signal()
    """Emitted once, when the toast starts leaving (clicked or timed out)."""
    closed = Signal()
    """Emitted once it has slid out and is hidden; it is deleted right after."""

    width_px, slide_ms = 360, 220

    def __init__(self, message: str, severity: str | Severity = "info",
                 duration_ms: int = 5000, parent: QWidget | None = None, *,
                 title: str | None = None) -> None:
        super().__init__(parent)
        self.severity = normalize_severity(severity)
        self.duration_ms = duration_ms
        self._message = message
        self._title = title if title is not None else severity_label(self.severity)
        self._leaving = False
        if parent is None:
            self.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                                | Qt.WindowType.WindowStaysOnTopHint
                                | Qt.WindowType.WindowDoesNotAcceptFocus)
            self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to dismiss")
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self._move = QPropertyAnimation(self, b"pos", self)
        self._move.setEasingCurve(QEasingCurve.Type.OutCubic)

    def _build(self) -> None:
        icon = QLabel()
        icon.setPixmap(severity_pixmap(self.severity, 26))
        icon.setFixedSize(26, 26)
        title = QLabel(self._title)
        title.setStyleSheet(f"color: {_TEXT.name()}; font-weight: bold")
        text = QLabel(self._message)
        text.setWordWrap(True)
        text.setStyleSheet(f"color: {_MUTED.name()}")
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(title)
        column.addWidget(text)
        row = QHBoxLayout(self)
        row.setContentsMargins(18, 12, 26, 12)
        row.setSpacing(12)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(column, 1)
        self.setFixedWidth(self.width_px)
        self.setFixedHeight(max(56, self.heightForWidth(self.width_px)))

    # ------------------------------------------------------------------ public API
    @classmethod
    def show_toast(cls, message: str, severity: str | Severity = "info",
                   duration_ms: int = 5000, parent: QWidget | None = None, *,
                   title: str | None = None) -> ToastNotification:
        """Show a toast notification over ``parent`` (by default the active window, or
        the first main window; the screen's corner if there is none) and return it."""
        toast = cls(message, severity, duration_ms, parent or _default_parent(), title=title)
        toast.popup()
        return toast

    def popup(self) -> None:
        """Join the stack, slide in and start the dismiss timer."""
        self.stack().add(self)
        self.show()
        self.raise_()
        if self.duration_ms > 0:
            self._timer.start(self.duration_ms)

    def dismiss(self) -> None:
        """Slide out, then hide and delete; a second call does nothing."""
        if self._leaving:
            return
        self._leaving = True
        self._timer.stop()
        self.dismissed.emit()
        stack = self.stack()
        stack.remove(self)
        self._move.finished.connect(self._finish)
        self.slide_to(QPoint(stack.offstage_x(), self.y()))
        if self.is_settled():  # it was offstage already: nothing to animate
            self._finish()

    def stack(self) -> ToastStack:
        return ToastStack.for_parent(self.parentWidget())

    def message(self) -> str:
        return self._message

    def title(self) -> str:
        return self._title

    def is_dismissed(self) -> bool:
        return self._leaving

    def is_settled(self) -> bool:
        """Whether it is at rest (not sliding)."""
        return self._move.state() is not QPropertyAnimation.State.Running

    def remaining_ms(self) -> int:
        """Milliseconds before it leaves by itself; -1 when it waits for a click."""
        return self._timer.remainingTime() if self._timer.isActive() else -1

    def slide_to(self, target: QPoint, animate: bool = True) -> None:
        """Move to ``target``, gliding over :attr:`slide_ms` when ``animate``."""
        if self._move.state() is QPropertyAnimation.State.Running \
                and self._move.endValue() == target:
            return
        self._move.stop()
        if not animate or self.pos() == target:
            self.move(target)
            return
        self._move.setDuration(self.slide_ms)
        self._move.setStartValue(self.pos())
        self._move.setEndValue(target)
        self._move.start()

    # ------------------------------------------------------------------ Qt events
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        if event.button() is Qt.MouseButton.LeftButton:
            self.dismiss()
            event.accept()
            return
        super().mousePressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closed without sliding out (its window closing): leave the stack at once."""
        if not self._leaving:
            self._leaving = True
            self._timer.stop()
            self.stack().remove(self)
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
        painter.setBrush(_BACKGROUND)
        painter.drawRoundedRect(box, 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(severity_color(self.severity))
        painter.drawRoundedRect(QRectF(box.left(), box.top(), 6, box.height()), 3, 3)
        painter.setPen(QPen(_MUTED, 1.4))
        corner = QPointF(box.right() - 16, box.top() + 10)
        painter.drawLine(corner, corner + QPointF(7, 7))
        painter.drawLine(corner + QPointF(7, 0), corner + QPointF(0, 7))
        painter.end()

    def _finish(self) -> None:
        self.hide()
        self.closed.emit()
        self.deleteLater()


def _default_parent() -> QWidget | None:
    """The active window, else the first visible main window, else none (screen toast)."""
    active = QApplication.activeWindow()
    if active is not None and not isinstance(active, ToastNotification):
        return active
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMainWindow) and widget.isVisible():
            return widget
    return None


# ---------------------------------------------------------------------- wiring
def toast_alert(alert: Alert, parent: QWidget | None = None) -> ToastNotification:
    """Show ``alert`` as a toast: its rule as the title, resolved ones as successes."""
    title = alert.rule.replace("_", " ").capitalize()
    if alert.status is AlertStatus.RESOLVED:
        title += " resolved"
    level = alert_severity(alert)
    return ToastNotification.show_toast(alert.message, level, default_duration_ms(level),
                                        parent, title=title)


def connect_toast_bus(bus: ToastBus, parent: QWidget | None = None) -> Callable[[], None]:
    """Show every alert the ``toast`` action publishes on ``bus`` as a toast over
    ``parent``, on the GUI thread; returns the function that stops it (called by itself
    when ``parent`` is destroyed)."""
    bridge: CoalescingBridge[Alert] = CoalescingBridge(interval_ms=50, parent=parent)
    bridge.delivered.connect(lambda batch: [toast_alert(a, parent) for a in batch])
    return _bind(bus.subscribe(bridge), bridge, parent)


class JobEventSource(Protocol):
    """What :func:`connect_job_toasts` needs: a ``JobManager`` or an ``EventBus``."""

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every job event; returns the unsubscribe function."""


def connect_job_toasts(source: JobEventSource, parent: QWidget | None = None, *,
                       failures: bool = True) -> Callable[[], None]:
    """A toast when a job completes (success) or fails (error, with the error).

    Pass ``failures=False`` where :func:`connect_toast_bus` is connected and the
    ``job_failed`` alert rule toasts, so a failure is not announced twice.
    """
    bridge: CoalescingBridge[Job] = CoalescingBridge(interval_ms=50, parent=parent)
    bridge.delivered.connect(lambda jobs: [_toast_job(job, parent) for job in jobs])
    wanted = {JobState.COMPLETED, JobState.FAILED} if failures else {JobState.COMPLETED}

    def on_event(event: JobEvent) -> None:  # on the engine's thread: filter, then post
        if event.kind is JobEventKind.STATE_CHANGED and event.job.state in wanted:
            bridge.post(event.job)

    return _bind(source.subscribe(on_event), bridge, parent)


def _toast_job(job: Job, parent: QWidget | None) -> ToastNotification:
    if job.state is JobState.FAILED:
        error = job.error.message if job.error else job.message
        return ToastNotification.show_toast(f"{job.name} ({job.id}): {error}", "error",
                                            default_duration_ms("error"), parent,
                                            title="Job failed")
    duration = job.duration_s
    took = f" in {_minutes(duration)}" if duration is not None else ""
    traces = f", {job.progress.traces_done:,} traces" if job.progress.traces_done else ""
    return ToastNotification.show_toast(f"{job.name} ({job.id}) finished{took}{traces}",
                                        "success", default_duration_ms("success"), parent,
                                        title="Job completed")


def _minutes(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _bind(unsubscribe: Callable[[], None], bridge: QObject,
          parent: QWidget | None) -> Callable[[], None]:
    """One stop function: unsubscribe from the core, then drop the bridge; also run
    when ``parent`` goes, so the core never posts to a deleted bridge."""
    done = False

    def stop() -> None:
        nonlocal done
        if not done:
            done = True
            unsubscribe()
            with contextlib.suppress(RuntimeError):  # already gone with its parent
                bridge.deleteLater()

    if parent is not None:
        parent.destroyed.connect(stop)
    return stop
