"""Toasts: they slide in, leave by themselves or on a click, stack without overlapping,
and the alert manager's ``toast`` action and finished jobs show them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import pytest
from monitor_helpers import alert, make_snapshot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QWidget

from seisproc.alerts import (
    ActionDispatcher,
    AlertManager,
    Severity,
    ToastBus,
    default_registry,
    get_default_rules,
)
from seisproc.gui.toast import (
    ToastNotification,
    ToastStack,
    connect_job_toasts,
    connect_toast_bus,
)
from seisproc.gui.widgets import severity_color
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import EventBus, JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job, JobError, JobState
from seisproc.processing.flow import Flow


@pytest.fixture(autouse=True)
def quick_slides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ToastNotification, "slide_ms", 60)


@pytest.fixture
def window(qtbot) -> QWidget:
    widget = QWidget()
    widget.resize(800, 600)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def settled(stack: ToastStack) -> bool:
    return all(t.is_settled() for t in stack.toasts()) and [
        t.pos() for t in stack.toasts()] == stack.targets()


def on_a_thread(call, *args) -> None:  # type: ignore[no-untyped-def]
    thread = threading.Thread(target=call, args=args)
    thread.start()
    thread.join()


def test_a_toast_slides_in_and_dismisses_itself_after_its_duration(qtbot, window):
    toast = ToastNotification.show_toast("Survey indexed", "success", 300, window)
    stack = toast.stack()
    assert toast.parentWidget() is window and stack.toasts() == [toast]
    assert toast.x() == window.width()  # starts just past the right edge
    qtbot.waitUntil(lambda: settled(stack), timeout=2_000)
    assert window.rect().contains(toast.geometry())
    assert 0 < toast.remaining_ms() <= 300

    with qtbot.waitSignal(toast.closed, timeout=2_000):
        pass
    assert stack.toasts() == []


def test_a_click_dismisses_a_toast(qtbot, window):
    toast = ToastNotification.show_toast("Click me", "info", 60_000, window)
    qtbot.waitUntil(toast.is_settled, timeout=2_000)
    assert toast.remaining_ms() > 50_000

    with qtbot.waitSignal(toast.dismissed, timeout=1_000):
        qtbot.mouseClick(toast, Qt.MouseButton.LeftButton)
    assert toast.is_dismissed() and toast.stack().toasts() == []
    with qtbot.waitSignal(toast.closed, timeout=2_000):
        pass


def test_toasts_stack_without_overlapping_and_close_the_gap_when_one_goes(qtbot, window):
    toasts = [ToastNotification.show_toast(text, level, 0, window) for text, level in (
        ("Job completed", "success"),
        ("Memory usage at 91% for the last five minutes, above the 85% threshold of the "
         "high_memory rule", "warning"),
        ("Job failed", "critical"))]
    stack = toasts[0].stack()
    qtbot.waitUntil(lambda: settled(stack), timeout=2_000)

    assert stack.toasts() == toasts
    assert not any(a.geometry().intersects(b.geometry()) for a, b in combinations(toasts, 2))
    assert all(window.rect().contains(t.geometry()) for t in toasts)
    assert [t.y() for t in toasts] == sorted((t.y() for t in toasts), reverse=True)  # upwards
    assert len({t.geometry().right() for t in toasts}) == 1  # one right edge
    assert toasts[1].height() > toasts[0].height()  # the long message wrapped

    oldest_y, newest_y = toasts[0].y(), toasts[2].y()
    with qtbot.waitSignal(toasts[1].closed, timeout=2_000):
        toasts[1].dismiss()
    qtbot.waitUntil(lambda: settled(stack), timeout=2_000)
    assert stack.toasts() == [toasts[0], toasts[2]]
    assert toasts[0].y() == oldest_y and toasts[2].y() > newest_y  # slid down into the gap
    assert not toasts[0].geometry().intersects(toasts[2].geometry())


def test_a_full_stack_lets_the_oldest_go(qtbot):
    small = QWidget()
    small.resize(420, 200)
    qtbot.addWidget(small)
    small.show()
    toasts = [ToastNotification.show_toast(f"toast {n}", "info", 0, small) for n in range(4)]
    stack = toasts[-1].stack()
    qtbot.waitUntil(lambda: settled(stack), timeout=2_000)
    assert stack.toasts() == toasts[-2:]
    assert all(t.is_dismissed() for t in toasts[:2])
    assert all(small.rect().contains(t.geometry()) for t in stack.toasts())


def test_the_stack_follows_the_window_when_it_is_resized(qtbot, window):
    toast = ToastNotification.show_toast("Resize me", "info", 0, window)
    qtbot.waitUntil(lambda: settled(toast.stack()), timeout=2_000)
    window.resize(600, 400)
    qtbot.waitUntil(lambda: window.rect().contains(toast.geometry()), timeout=1_000)
    assert toast.geometry().bottomRight() == QPoint(600 - 1 - 16, 400 - 1 - 16)


@pytest.mark.parametrize("severity", ["info", "success", "warning", "error", "critical",
                                      Severity.CRITICAL])
def test_the_severity_shows_as_the_accent_colour(qtbot, window, severity):
    toast = ToastNotification.show_toast("Level", severity, 0, window)
    qtbot.waitUntil(toast.is_settled, timeout=2_000)
    accent = toast.grab().toImage().pixelColor(3, toast.height() // 2)
    assert accent.name() == severity_color(severity).name()
    assert toast.title() == str(severity).capitalize()


def test_an_unknown_severity_is_refused_with_the_choices(qtbot, window):
    with pytest.raises(ValueError, match="info, success, warning, error, critical"):
        ToastNotification("Boom", "fatal", parent=window)


def test_without_a_window_a_toast_is_a_small_window_at_the_screen_corner(qtbot):
    toast = ToastNotification.show_toast("Headless", "info", 0)
    qtbot.addWidget(toast)
    qtbot.waitUntil(lambda: settled(toast.stack()), timeout=2_000)
    screen = QGuiApplication.primaryScreen()
    assert toast.isWindow() and toast.parentWidget() is None
    assert screen is not None and screen.availableGeometry().contains(toast.geometry())
    toast.close()
    assert toast.stack().toasts() == []  # closed with its window: out of the stack


def test_by_default_a_toast_goes_over_the_main_window(qtbot):
    main = QMainWindow()
    main.resize(700, 500)
    qtbot.addWidget(main)
    main.show()
    toast = ToastNotification.show_toast("Over the window")
    assert toast.parentWidget() is main


def test_the_alert_managers_toast_action_shows_a_toast(qtbot, window):
    bus = ToastBus()
    alerts = AlertManager(get_default_rules(),
                          dispatcher=ActionDispatcher(default_registry(bus)))
    stop = connect_toast_bus(bus, window)
    stack = ToastStack.for_parent(window)
    try:
        alerts.check(make_snapshot(memory=90.0))  # high_memory: actions toast and log
        qtbot.waitUntil(lambda: len(stack.toasts()) == 1, timeout=3_000)
        toast = stack.toasts()[0]
        assert (toast.title(), toast.severity) == ("High memory", "warning")
        assert toast.message() == "Memory usage at 90%"
        alerts.check(make_snapshot(memory=50.0, monotonic_s=1001.0))
        qtbot.waitUntil(lambda: len(stack.toasts()) == 2, timeout=3_000)
        assert (stack.toasts()[1].title(), stack.toasts()[1].severity) == (
            "High memory resolved", "success")
    finally:
        stop()
        alerts.close()


def test_a_stopped_bus_connection_shows_nothing_more(qtbot, window):
    bus = ToastBus()
    stop = connect_toast_bus(bus, window)
    on_a_thread(bus, alert("node_lost", Severity.CRITICAL))
    stack = ToastStack.for_parent(window)
    qtbot.waitUntil(lambda: len(stack.toasts()) == 1, timeout=2_000)
    assert stack.toasts()[0].severity == "critical"
    stop()
    on_a_thread(bus, alert("node_lost", Severity.CRITICAL))
    qtbot.wait(150)
    assert len(stack.toasts()) == 1


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    jobs = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=1),
                      CheckpointStore(tmp_path / "checkpoints"))
    yield jobs
    jobs.close(active="cancel")


def test_a_completed_job_shows_a_success_toast(qtbot, window, manager, small_survey,
                                               tmp_path):
    stop = connect_job_toasts(manager, window)
    flow = Flow.from_mapping({"name": "agc-test", "input": str(small_survey),
                              "output": str(tmp_path / "out.sgy"),
                              "steps": [{"agc": {"window_ms": 200}}]})
    job = manager.submit(flow)
    stack = ToastStack.for_parent(window)
    qtbot.waitUntil(lambda: len(stack.toasts()) == 1, timeout=30_000)
    toast = stack.toasts()[0]
    assert (toast.title(), toast.severity) == ("Job completed", "success")
    assert toast.message().startswith(f"agc-test ({job.id}) finished in ")
    assert toast.message().endswith(", 144 traces")
    stop()


def test_a_failed_job_shows_an_error_toast_unless_alerts_already_do(qtbot, window):
    events = EventBus()
    failed = Job(id="f00d", name="mute-test", state=JobState.FAILED,
                 error=JobError("ProcessingError", "mute time past the end of the trace"))
    stop = connect_job_toasts(events, window)
    on_a_thread(events.emit, JobEvent(JobEventKind.STATE_CHANGED, failed))
    stack = ToastStack.for_parent(window)
    qtbot.waitUntil(lambda: len(stack.toasts()) == 1, timeout=2_000)
    toast = stack.toasts()[0]
    assert (toast.title(), toast.severity) == ("Job failed", "error")
    assert toast.message() == "mute-test (f00d): mute time past the end of the trace"
    stop()

    stop = connect_job_toasts(events, window, failures=False)
    on_a_thread(events.emit, JobEvent(JobEventKind.STATE_CHANGED, failed))
    qtbot.wait(150)
    assert len(stack.toasts()) == 1
    stop()
