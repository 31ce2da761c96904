"""A click on a QC point opens that gather of the job in the gather viewer: from the
job's output once written, from its input while the job still runs (the viewer's title
says which), on jobs run by the real engine's in-process executor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_helpers import HEAVY, activate, make_flow, select
from PySide6.QtCore import Qt
from viewer_helpers import read_gather, wait_for_gather

from seisproc.gui.main_window import MainWindow
from seisproc.gui.qc_strip import QcStrip
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job, JobState


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    jobs = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=1),
                      CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=1)
    yield jobs
    jobs.close(active="cancel")


def open_window(qtbot, manager: JobManager) -> MainWindow:
    window = MainWindow(manager)
    qtbot.addWidget(window, before_close_func=lambda w: setattr(
        w, "ask_on_quit", lambda count: "cancel"))
    window.resize(1400, 900)
    activate(qtbot, window)
    return window


def show_qc_of(qtbot, window: MainWindow, job: Job, gathers: int) -> QcStrip:
    """Select ``job`` and open its QC tab with a click, once ``gathers`` are drawn."""
    qtbot.waitUntil(lambda: window.dashboard.model.row_of(job.id) is not None)
    select(window.dashboard, job.id)
    details = window.dashboard.details
    strip = details.qc_strip
    bar = details.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton,
                     pos=bar.tabRect(details.tabs.indexOf(strip)).center())
    qtbot.waitUntil(lambda: len(strip.series()["rms"][0]) >= gathers, timeout=60_000)
    return strip


def click_point(qtbot, strip: QcStrip, key_value: int) -> None:
    """Click gather ``key_value``'s point on the RMS chart, once it is laid out."""
    qtbot.waitUntil(lambda: strip.rms_plot.viewport().rect().contains(
        strip.point_position(key_value).toPoint()))
    point = strip.point_position(key_value).toPoint()
    qtbot.mouseClick(strip.rms_plot.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_a_qc_point_of_a_finished_job_opens_that_gather_of_its_output(
        qtbot, manager, small_survey, tmp_path):
    window = open_window(qtbot, manager)
    output = tmp_path / "out.sgy"
    job = manager.submit(make_flow(small_survey, output, name="line-7"))
    assert manager.wait(job.id, 60).state is JobState.COMPLETED
    strip = show_qc_of(qtbot, window, job, gathers=6)
    qtbot.waitUntil(lambda: window.dashboard.details.job.state is JobState.COMPLETED)

    click_point(qtbot, strip, 1003)
    viewer = window.viewer
    wait_for_gather(qtbot, viewer, 2)
    assert viewer.current_frame.key_value == 1003
    assert viewer.segy is not None and viewer.segy.path == output
    assert viewer.title == f"out.sgy · output of job “line-7” ({job.id})"
    samples, _, _ = read_gather(output, "ffid", 2)
    assert (viewer.current_frame.before == samples).all()
    assert not window.viewer_dock.visibleRegion().isEmpty()  # brought to the front


@pytest.mark.slow
def test_a_qc_point_of_a_running_job_opens_that_gather_of_its_input(
        qtbot, manager, long_survey, tmp_path):
    survey = long_survey
    window = open_window(qtbot, manager)
    job = manager.submit(make_flow(survey, tmp_path / "decon.sgy", HEAVY, name="decon"))
    strip = show_qc_of(qtbot, window, job, gathers=2)
    first = int(strip.series()["rms"][0][0])

    click_point(qtbot, strip, first)
    assert manager.get(job.id).state is JobState.RUNNING  # still writing its output
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.current_frame is not None
                    and viewer.current_frame.key_value == first, timeout=10_000)
    assert viewer.segy is not None and viewer.segy.path == survey
    assert viewer.title == (f"{survey.name} · input of job “decon” ({job.id}): its output "
                            "is not written yet")
    manager.cancel(job.id)
