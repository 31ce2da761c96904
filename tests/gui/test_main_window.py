"""The main window: panels and the View menu, Escape, the status-bar counts, quitting with
active jobs, the remembered layout, the File menu, on an idle engine and on Ray; and the
``seisproc gui`` command that opens it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from dashboard_helpers import (
    HEAVY,
    activate,
    make_flow,
    ray_engine,
    state_of,
)
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMessageBox

from seisproc.cli.main import cli
from seisproc.gui.main_window import MainWindow
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import JobState

S = JobState


def open_window(qtbot, manager: JobManager) -> MainWindow:
    window = MainWindow(manager)
    qtbot.addWidget(window, before_close_func=lambda w: (  # teardown never waits on a dialog
        setattr(w, "ask_on_quit", lambda count: "cancel"),
        setattr(w.flow_editor, "ask_unsaved", lambda quitting=False: "discard")))
    activate(qtbot, window)
    return window


@pytest.fixture
def window(qtbot, idle_manager: JobManager) -> MainWindow:
    return open_window(qtbot, idle_manager)


def view_action(window: MainWindow, text: str):  # noqa: ANN201 (a QAction)
    (action,) = [a for a in window.view_menu.actions() if a.text() == text]
    return action


# ---------------------------------------------------------------------- panels
def test_the_dashboard_reopens_from_the_view_menu_and_the_status_indicator(qtbot, window):
    assert [a.text() for a in window.view_menu.actions()] == [
        "Job Dashboard", "Resource Monitor", "Gather Viewer", "Flow Editor"]
    window.dashboard_dock.close()
    assert not window.dashboard_dock.isVisible()
    view_action(window, "Job Dashboard").trigger()
    assert window.dashboard_dock.isVisible()

    window.dashboard_dock.close()
    qtbot.mouseClick(window.indicator, Qt.MouseButton.LeftButton)
    assert window.dashboard_dock.isVisible()


def test_a_panel_added_later_joins_the_view_menu(qtbot, window):
    dock = window.add_dock("Analytics", QLabel("charts"), "analytics")
    assert isinstance(dock, QDockWidget)
    qtbot.waitUntil(dock.isVisible, timeout=1_000)
    view_action(window, "Analytics").trigger()
    assert not dock.isVisible()


def test_the_layout_is_remembered_across_launches(qtbot, idle_manager, isolated_settings):
    first = open_window(qtbot, idle_manager)
    first.removeDockWidget(first.dashboard_dock)
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.dashboard_dock)
    first.dashboard_dock.show()
    first.resource_dock.close()
    later = first.add_dock("Analytics", QLabel("charts"), "analytics")
    later.close()
    first.resize(720, 700)  # the offscreen screen is 800 x 800; above the docks' minimum
    first.close()
    assert (isolated_settings / "seisproc" / "seisproc.ini").exists()  # not the user's own

    second = open_window(qtbot, idle_manager)
    again = second.add_dock("Analytics", QLabel("charts"), "analytics")
    assert second.dockWidgetArea(second.dashboard_dock) is Qt.DockWidgetArea.RightDockWidgetArea
    assert not second.resource_dock.isVisible() and not again.isVisible()
    assert (second.width(), second.height()) == (720, 700)


# ---------------------------------------------------------------------- jobs
def test_the_status_bar_counts_running_queued_and_paused_jobs(qtbot, window, idle_manager,
                                                              submit_idle):
    assert window.indicator.label.text() == "0 running · 0 queued"
    jobs = [submit_idle(f"line {n}") for n in range(3)]
    qtbot.waitUntil(lambda: window.indicator.label.text() == "0 running · 3 queued")
    idle_manager.pause(jobs[0].id)
    qtbot.waitUntil(lambda: window.indicator.label.text()
                    == "0 running · 2 queued · 1 paused")


def test_escape_cancels_every_active_job_once_confirmed(qtbot, window, idle_manager,
                                                        submit_idle, monkeypatch):
    jobs = [submit_idle(f"line {n}") for n in range(3)]
    idle_manager.pause(jobs[1].id)
    asked: list[int] = []
    monkeypatch.setattr(window, "confirm_cancel_all", lambda count: asked.append(count) or 0)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert asked == [3] and {idle_manager.get(j.id).state for j in jobs} == {S.QUEUED,
                                                                              S.PAUSED}

    monkeypatch.setattr(window, "confirm_cancel_all", lambda count: True)
    qtbot.keyClick(window.dashboard.view, Qt.Key.Key_Escape)  # from inside a panel too
    qtbot.waitUntil(lambda: {state_of(window.dashboard, j.id) for j in jobs} == {S.CANCELLED})
    qtbot.waitUntil(lambda: window.indicator.label.text() == "0 running · 0 queued")
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.statusBar().currentMessage() == "No active jobs to cancel"


@pytest.mark.parametrize(("answer", "closes", "after"), [
    (None, False, S.QUEUED), ("pause", True, S.QUEUED), ("cancel", True, S.CANCELLED)])
def test_quitting_with_active_jobs_asks_whether_to_pause_or_cancel_them(
        qtbot, window, idle_manager, submit_idle, answer, closes, after):
    job = submit_idle("line 1")
    asked: list[int] = []
    window.ask_on_quit = lambda count: asked.append(count) or answer  # type: ignore[method-assign]
    window.quit_action.trigger()
    assert asked == [1]
    assert window.isVisible() is not closes
    if closes:
        assert window.quit_choice == answer
    qtbot.waitUntil(lambda: idle_manager.get(job.id).state is after)


@pytest.mark.parametrize(("button", "choice"), [
    ("Pause for later", "pause"), ("Cancel jobs", "cancel"), ("Keep running", None)])
def test_the_quit_question_offers_pause_cancel_and_keep_running(qtbot, window, button,
                                                                choice):
    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and "2 jobs are still running" in box.text()
        (chosen,) = [b for b in box.buttons() if b.text() == button]
        chosen.click()

    QTimer.singleShot(0, answer)
    assert window.ask_on_quit(2) == choice


def test_quitting_with_no_active_job_asks_nothing(qtbot, window):
    window.ask_on_quit = lambda count: pytest.fail("asked")  # type: ignore[method-assign]
    window.close()
    assert not window.isVisible() and window.quit_choice == "pause"


# ---------------------------------------------------------------------- File menu
def test_opening_a_segy_file_describes_it_and_announces_it(qtbot, window, small_survey,
                                                           tmp_path, monkeypatch):
    with qtbot.waitSignal(window.segy_open_requested, timeout=1_000) as opened:
        assert window.open_segy_file(small_survey)
    assert opened.args == [str(small_survey)]
    assert window.statusBar().currentMessage() == (
        "small.sgy: 144 traces × 251 samples at 4 ms, 4-byte IEEE float, big-endian")

    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "show_error", lambda title, text: errors.append((title, text)))
    junk = tmp_path / "junk.sgy"
    junk.write_bytes(b"not seismic" * 400)
    with qtbot.assertNotEmitted(window.segy_open_requested):
        assert not window.open_segy_file(junk)
    assert errors and "junk.sgy" in errors[0][1]


def test_a_flow_file_is_run_as_a_job_and_shown_selected(qtbot, window, small_survey, tmp_path,
                                                        monkeypatch):
    flow_file = tmp_path / "flow.yaml"
    flow_file.write_text(make_flow(small_survey, tmp_path / "out.sgy").to_yaml())
    job = window.run_flow_file(flow_file)
    assert job is not None and window.dashboard.selected_jobs()[0].id == job.id
    assert window.statusBar().currentMessage() == f"Job {job.id} submitted: gui-test"

    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "show_error", lambda title, text: errors.append((title, text)))
    flow_file.write_text(flow_file.read_text().replace("window_ms", "window_sec"))
    assert window.run_flow_file(flow_file) is None
    assert errors[-1][0] == "The flow is not valid"
    assert "flow.yaml" in errors[-1][1] and "window_sec" in errors[-1][1]


def test_an_existing_output_is_replaced_only_when_confirmed(qtbot, window, small_survey,
                                                           tmp_path, monkeypatch):
    output = tmp_path / "out.sgy"
    output.write_bytes(b"precious")
    flow_file = tmp_path / "flow.yaml"
    flow_file.write_text(make_flow(small_survey, output).to_yaml())
    monkeypatch.setattr(window, "confirm_overwrite", lambda path: False)
    assert window.run_flow_file(flow_file) is None and output.read_bytes() == b"precious"
    monkeypatch.setattr(window, "confirm_overwrite", lambda path: path == output)
    assert window.run_flow_file(flow_file) is not None


# ---------------------------------------------------------------------- on Ray
@pytest.fixture
def ray_manager(ray_cluster: None) -> Iterator[JobManager]:
    yield from ray_engine(max_running=2)


@pytest.mark.slow
def test_on_ray_the_window_counts_jobs_toasts_completions_and_escape_cancels_the_rest(
        qtbot, ray_manager, small_survey, long_survey, tmp_path, monkeypatch):
    window = open_window(qtbot, ray_manager)
    toasts: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "notify", lambda text, level="info": toasts.append((text,
                                                                                     level)))
    quick = ray_manager.submit(make_flow(small_survey, tmp_path / "quick.sgy", name="quick"))
    qtbot.waitUntil(lambda: state_of(window.dashboard, quick.id) is S.COMPLETED,
                    timeout=60_000)
    qtbot.waitUntil(lambda: toasts != [], timeout=2_000)
    assert toasts[0][1] == "success" and toasts[0][0].startswith("Job “quick” completed in ")

    jobs = [ray_manager.submit(make_flow(long_survey, tmp_path / f"long{n}.sgy", HEAVY,
                                         name=f"long {n}")) for n in range(3)]
    qtbot.waitUntil(lambda: window.indicator.label.text() == "2 running · 1 queued",
                    timeout=60_000)
    qtbot.waitUntil(lambda: window.indicator.bar.value() > 0, timeout=30_000)
    monkeypatch.setattr(window, "confirm_cancel_all", lambda count: count == 3)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: {state_of(window.dashboard, j.id) for j in jobs} == {S.CANCELLED},
                    timeout=15_000)
    qtbot.waitUntil(lambda: window.indicator.label.text() == "0 running · 0 queued")
    assert not window.indicator.bar.isVisible()
    assert sorted(p.name for p in tmp_path.glob("*.sgy")) == ["quick.sgy"]


# ---------------------------------------------------------------------- the command
def test_seisproc_gui_opens_the_window_and_closes_the_engine_on_quit(qtbot, monkeypatch):
    from seisproc.gui import app as gui_app

    closed: list[str] = []
    real_open = gui_app.open_manager

    def recording_open(**kwargs: object) -> JobManager:
        manager = real_open(**kwargs)  # type: ignore[arg-type]
        real_close = manager.close
        monkeypatch.setattr(manager, "close", lambda active="pause": (
            closed.append(active), real_close(active=active)))
        return manager

    monkeypatch.setattr(gui_app, "open_manager", recording_open)
    shown: list[MainWindow] = []

    def close_the_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        shown.extend(windows)
        for window in windows:
            window.close()

    QTimer.singleShot(300, close_the_window)
    result = CliRunner().invoke(cli, ["gui", "--max-running", "1"])
    assert result.exit_code == 0, result.output
    assert len(shown) == 1 and shown[0].windowTitle() == "seisproc"
    assert closed == ["pause"]


def test_seisproc_gui_without_pyside6_says_how_to_install_it(monkeypatch):
    import importlib.util

    real_find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "PySide6" else real_find(name, *a))
    result = CliRunner().invoke(cli, ["gui"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: the desktop application needs PySide6; install it with: "
        "pip install 'seisproc[gui]'"]
