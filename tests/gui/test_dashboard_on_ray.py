"""The dashboard drives real jobs on Ray: pause, resume and cancel through its buttons and
keys, and a job that fails in a worker shows its error and traceback."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_helpers import (
    HEAVY,
    activate,
    make_flow,
    open_dashboard,
    ray_engine,
    select,
    shown,
    state_of,
    truncate_after,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from seisproc.gui.dashboard import JobDashboard
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import JobProgress, JobState
from seisproc.jobs.plan import partial_path_for

pytestmark = pytest.mark.slow
S = JobState


@pytest.fixture
def manager(ray_cluster: None) -> Iterator[JobManager]:
    yield from ray_engine()


@pytest.fixture
def dashboard(qtbot, manager: JobManager) -> JobDashboard:
    board = open_dashboard(qtbot, manager,
                           event_log=manager.store.job_events)  # type: ignore[attr-defined]
    activate(qtbot, board)
    return board


def button(dashboard: JobDashboard, text: str) -> QToolButton:
    (found,) = [b for b in dashboard.findChildren(QToolButton) if b.text() == text]
    return found


def settled_progress(qtbot, manager: JobManager, job_id: str, quiet_s: float = 1.0
                     ) -> JobProgress:
    """The job's progress once it has not moved for ``quiet_s``."""
    last: list[JobProgress | float] = [manager.get(job_id).progress, time.monotonic()]

    def quiet() -> bool:
        now = manager.get(job_id).progress
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - float(last[1]) >= quiet_s  # type: ignore[arg-type]

    qtbot.waitUntil(quiet, timeout=15_000)
    return manager.get(job_id).progress


def test_pause_resume_and_cancel_buttons_drive_a_job_running_on_ray(
        qtbot, manager: JobManager, dashboard: JobDashboard, long_survey: Path,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "long_out.sgy"
    job = manager.submit(make_flow(long_survey, output, HEAVY, name="long line"))
    qtbot.waitUntil(lambda: shown(dashboard, job.id).progress.units_done >= 1, timeout=60_000)
    select(dashboard, job.id)
    assert not button(dashboard, "Resume").isEnabled()

    qtbot.mouseClick(button(dashboard, "Pause"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(dashboard, job.id) is S.PAUSED, timeout=10_000)
    assert button(dashboard, "Resume").isEnabled() and not button(dashboard, "Pause").isEnabled()
    held = settled_progress(qtbot, manager, job.id)  # units already sent land and count
    qtbot.wait(1_500)
    assert manager.get(job.id).state is S.PAUSED
    assert manager.get(job.id).progress.units_done == held.units_done < held.units_total
    assert shown(dashboard, job.id).progress == held

    qtbot.mouseClick(button(dashboard, "Resume"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown(dashboard, job.id).progress.units_done > held.units_done,
                    timeout=30_000)
    assert state_of(dashboard, job.id) is S.RUNNING

    monkeypatch.setattr(dashboard, "confirm_cancel", lambda jobs: True)
    qtbot.mouseClick(button(dashboard, "Cancel"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(dashboard, job.id) is S.CANCELLED, timeout=10_000)
    assert not output.exists() and not partial_path_for(output, job.id).exists()
    events = [item.text(2) for item in dashboard.details.events.findItems(
        "*", Qt.MatchFlag.MatchWildcard, 2)]
    # a resumed job waits for a running slot again (paused jobs hold none): Queued first
    assert events == ["Queued", "Running", "Paused", "Queued", "Running", "Cancelling",
                      "Cancelled"]


def test_delete_cancels_every_selected_job(qtbot, manager: JobManager, dashboard: JobDashboard,
                                           long_survey: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [manager.submit(make_flow(long_survey, tmp_path / f"out{n}.sgy", HEAVY,
                                     name=f"line {n}")) for n in range(3)]
    qtbot.waitUntil(lambda: state_of(dashboard, jobs[0].id) is S.RUNNING, timeout=60_000)
    asked: list[int] = []
    monkeypatch.setattr(dashboard, "confirm_cancel", lambda chosen: asked.append(len(chosen))
                        or True)
    select(dashboard, *(job.id for job in jobs))
    dashboard.view.setFocus()
    qtbot.keyClick(dashboard.view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: {state_of(dashboard, j.id) for j in jobs} == {S.CANCELLED},
                    timeout=15_000)
    assert asked == [3]  # one question for the three (two running, one queued)
    assert list(tmp_path.glob("*out*")) == []


def test_a_job_failing_in_a_worker_shows_its_error_and_traceback(
        qtbot, manager: JobManager, dashboard: JobDashboard, long_survey: Path,
        tmp_path: Path) -> None:
    copy = tmp_path / "copy.sgy"
    shutil.copyfile(long_survey, copy)
    job = manager.submit(make_flow(copy, tmp_path / "out.sgy", HEAVY, name="cut short"))
    qtbot.waitUntil(lambda: shown(dashboard, job.id).progress.units_done >= 1, timeout=60_000)
    truncate_after(copy, traces=4 * 4 * 48)  # the input is cut while the job reads it
    qtbot.waitUntil(lambda: state_of(dashboard, job.id) is S.FAILED, timeout=30_000)
    dashboard.state_filter.setCurrentText("Failed")
    assert dashboard.proxy.rowCount() == 1
    dashboard.select_job(job.id)

    details = dashboard.details
    assert details.tabs.currentWidget() is details.error_text
    text = details.error_text.toPlainText()
    assert "copy.sgy: short read at trace" in text and "truncated while open" in text
    assert 'seisproc/jobs/units.py", line' in text  # the traceback from the Ray worker
    assert "\x1b" not in text  # Ray's terminal colours are dropped
    assert "spiking_decon" in details.flow_text.toPlainText()
    assert details.events.topLevelItem(details.events.topLevelItemCount() - 1).text(2) == (
        "Failed")
    assert not dashboard.pause_action.isEnabled()  # a failed job runs again or is given up
    assert dashboard.resume_action.isEnabled() and dashboard.cancel_action.isEnabled()
