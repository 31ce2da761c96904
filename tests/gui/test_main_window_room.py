"""Room to work: at the default split of a 1400 or 1280 px window, the gather viewer and
analytics, brought to the front by a click on their tab, show every control without
scrolling or clipping, and the job table's split comes back with the table."""

from __future__ import annotations

import pytest
from dashboard_helpers import activate
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea, QTabBar, QWidget

from seisproc.gui.main_window import MainWindow
from seisproc.history import JobHistoryStorage
from seisproc.jobs.manager import JobManager

SIZES = [(1400, 900), (1280, 800)]


@pytest.fixture
def store(tmp_path) -> JobHistoryStorage:
    history = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    yield history
    history.close()


def open_window(qtbot, manager: JobManager, store: JobHistoryStorage,
                size: tuple[int, int]) -> MainWindow:
    window = MainWindow(manager, store=store)
    qtbot.addWidget(window, before_close_func=lambda w: setattr(
        w, "ask_on_quit", lambda count: "cancel"))
    window.resize(*size)  # the offscreen screen is smaller: no restored geometry applies
    activate(qtbot, window)
    qtbot.waitUntil(lambda: window.room.side == "neither")
    return window


def click_tab(qtbot, window: MainWindow, title: str) -> None:
    """Bring a panel to the front as a person does: a click on its tab."""
    for bar in window.findChildren(QTabBar):
        for index in range(bar.count()):
            if bar.tabText(index) == title and bar.isVisible():
                qtbot.mouseClick(bar, Qt.MouseButton.LeftButton,
                                 pos=bar.tabRect(index).center())
                return
    raise AssertionError(f"no tab {title!r}")


def clipped(widget: QWidget, window: MainWindow) -> QRect:
    """The part of ``widget`` its ancestors (scroll areas, docks, the window) leave in
    sight, in window coordinates."""
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    seen = rect
    parent = widget.parentWidget()
    while parent is not None:
        origin = QPoint(0, 0) if parent is window else parent.mapTo(window, QPoint(0, 0))
        seen = seen.intersected(QRect(origin, parent.size()))
        if parent is window:
            break
        parent = parent.parentWidget()
    return seen


def assert_fully_visible(widget: QWidget, window: MainWindow) -> None:
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    assert widget.isVisible() and clipped(widget, window) == rect, (
        f"{type(widget).__name__} {widget.objectName()!r}: {rect} shows only "
        f"{clipped(widget, window)}")


def front_width(window: MainWindow, *docks: QDockWidget | None) -> int:
    return next(d.width() for d in docks if d is not None and not d.visibleRegion().isEmpty())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_viewer_tab_shows_every_display_control_and_the_header_table(
        qtbot, idle_manager, store, size):
    window = open_window(qtbot, idle_manager, store, size)
    click_tab(qtbot, window, "Gather Viewer")
    qtbot.waitUntil(lambda: window.room.side == "left")
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.width() >= 0.7 * size[0])  # room, not just enough
    controls = viewer.display_controls.findChildren(
        QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
    assert len(controls) == 6  # Gather by, Display and Clip, each with its caption
    for widget in [viewer.display_controls, *controls, viewer._header_table,
                   viewer._header_table.table]:
        assert_fully_visible(widget, window)
    scroll = window.viewer_dock.widget()
    assert isinstance(scroll, QScrollArea) and not scroll.horizontalScrollBar().isVisible()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_analytics_tab_opens_without_scrolling_sideways(qtbot, idle_manager, store,
                                                            size):
    window = open_window(qtbot, idle_manager, store, size)
    click_tab(qtbot, window, "Analytics")
    qtbot.waitUntil(lambda: window.room.side == "right")
    scroll = window.analytics_dock.widget()
    assert isinstance(scroll, QScrollArea)
    qtbot.waitUntil(lambda: scroll.viewport().width()
                    >= window.analytics.minimumSizeHint().width())
    assert not scroll.horizontalScrollBar().isVisible()
    assert_fully_visible(window.dashboard.view, window)  # the table keeps a column


def test_the_table_gets_its_split_back_and_a_dragged_split_is_kept(qtbot, idle_manager,
                                                                    store):
    window = open_window(qtbot, idle_manager, store, (1400, 900))
    table = window.dashboard_dock.width()
    click_tab(qtbot, window, "Gather Viewer")
    qtbot.waitUntil(lambda: window.room.side == "left")
    qtbot.waitUntil(lambda: window.viewer_dock.width() > 1000)
    window.resizeDocks([window.viewer_dock, window.resource_dock], [960, 440],
                       Qt.Orientation.Horizontal)  # as a drag of the separator does
    qtbot.waitUntil(lambda: abs(window.viewer_dock.width() - 960) <= 8)
    click_tab(qtbot, window, "Job Dashboard")
    qtbot.waitUntil(lambda: window.room.side == "neither")
    qtbot.waitUntil(lambda: abs(window.dashboard_dock.width() - table) <= 8)

    click_tab(qtbot, window, "Gather Viewer")
    qtbot.waitUntil(lambda: window.room.side == "left")
    qtbot.waitUntil(lambda: abs(window.viewer_dock.width() - 960) <= 8)


def test_the_default_layout_shows_one_tab_bar_per_column(qtbot, idle_manager, store):
    window = open_window(qtbot, idle_manager, store, (1400, 900))
    bars = [bar for bar in window.findChildren(QTabBar)
            if bar.parent() is window and bar.isVisible()
            and bar.geometry().intersects(window.rect())]
    tabs = sorted([bar.tabText(i) for i in range(bar.count())] for bar in bars)
    assert tabs == [["Job Dashboard", "Gather Viewer"],
                    ["Resource Monitor", "Flow Editor", "Analytics"]]
