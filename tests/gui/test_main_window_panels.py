"""The main window's data panels working together: Analytics on the history store, File >
Open SEG-Y into the Gather Viewer, the Flow Editor driving the viewer's preview and
submitting jobs, and a running job's live QC in the dashboard's details pane."""

from __future__ import annotations

import numpy as np
from dashboard_helpers import activate, make_flow, select

from seisproc.gui.main_window import MainWindow
from seisproc.history import JobHistoryStorage
from seisproc.io.segy import open_segy
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState


def open_window(qtbot, manager: JobManager, **kwargs) -> MainWindow:
    window = MainWindow(manager, **kwargs)
    qtbot.addWidget(window, before_close_func=lambda w: (  # teardown never waits on a dialog
        setattr(w, "ask_on_quit", lambda count: "cancel"),
        setattr(w.flow_editor, "ask_unsaved", lambda quitting=False: "discard")))
    activate(qtbot, window)
    return window


def view_titles(window: MainWindow) -> list[str]:
    return [action.text() for action in window.view_menu.actions()]


def test_analytics_joins_the_view_menu_when_the_window_has_a_history(qtbot, idle_manager,
                                                                     tmp_path):
    store = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        window = open_window(qtbot, idle_manager, store=store)
        assert view_titles(window) == ["Job Dashboard", "Resource Monitor", "Analytics",
                                       "Gather Viewer", "Flow Editor"]
        assert window.analytics_dock is not None and window.analytics is not None
        window.analytics_dock.show()
        window.analytics_dock.raise_()
        assert window.analytics.wait_for_refresh(10_000)
        assert window.analytics.statistics is not None
        window.close()
    finally:
        store.close()


def test_open_segy_shows_the_file_in_the_gather_viewer(qtbot, idle_manager, small_survey):
    window = open_window(qtbot, idle_manager)
    with qtbot.waitSignal(window.viewer.gather_shown, timeout=10_000):
        assert window.open_segy_file(small_survey)
    assert window.viewer_dock.isVisible()
    assert window.viewer.gathers is not None and len(window.viewer.gathers) == 6


def test_editing_a_flow_recomputes_the_viewers_preview(qtbot, idle_manager, small_survey,
                                                       tmp_path):
    window = open_window(qtbot, idle_manager)
    with qtbot.waitSignal(window.viewer.gather_shown, timeout=10_000):
        window.open_segy_file(small_survey)
    flow = make_flow(small_survey, tmp_path / "out.sgy",
                     steps=[{"agc": {"window_ms": 200}}])
    with qtbot.waitSignal(window.viewer.preview_updated, timeout=10_000):
        window.flow_editor.set_flow(flow)
    first = window.viewer.flow
    assert first is not None and first.steps[0].params["window_ms"] == 200

    with qtbot.waitSignal(window.viewer.preview_updated, timeout=10_000):
        window.flow_editor.step_form(0).field_widget("window_ms").setValue(40)
    assert window.viewer.flow.steps[0].params["window_ms"] == 40


def test_the_flow_editor_submits_through_the_window(qtbot, idle_manager, small_survey,
                                                    tmp_path):
    window = open_window(qtbot, idle_manager)
    window.flow_editor.set_flow(make_flow(small_survey, tmp_path / "out.sgy", name="edited"))
    with qtbot.waitSignal(window.flow_editor.submitted, timeout=5_000) as submitted:
        window.flow_editor.submit_button.click()
    job = submitted.args[0]
    assert job.name == "edited" and job.state is JobState.QUEUED
    assert window.dashboard.model.row_of(job.id) is not None
    assert [j.id for j in window.dashboard.selected_jobs()] == [job.id]


def test_a_running_jobs_qc_shows_in_the_details_pane(qtbot, small_survey, tmp_path):
    manager = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=1),
                         CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=1)
    try:
        window = open_window(qtbot, manager)
        job = manager.submit(make_flow(small_survey, tmp_path / "out.sgy"))
        qtbot.waitUntil(lambda: window.dashboard.model.row_of(job.id) is not None)
        select(window.dashboard, job.id)
        assert manager.wait(job.id, 60).state is JobState.COMPLETED
        strip = window.dashboard.details.qc_strip
        qtbot.waitUntil(lambda: strip.gathers_label.text() == "6", timeout=5_000)
        with open_segy(tmp_path / "out.sgy") as out:
            assert out.layout.n_traces == 6 * 24
        rms = strip.series()["rms"][1]
        assert rms.size == 6 and np.all(rms > 0)
        window.close()
    finally:
        manager.close(active="cancel")
