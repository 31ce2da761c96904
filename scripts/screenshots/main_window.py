"""Screenshots of the main window with jobs on Ray: docs/images/main_window.png,
docs/images/dashboard_failed_job.png and docs/images/main_window_viewer.png (a point of
the completed job's QC clicked: its gather in the viewer, which gets the room).

The window is the one ``seisproc gui`` opens (same engine, monitor and alerts), on a
temporary seisproc home. Six jobs on synthetic surveys: one completes, three run (one of
them paused), one fails because its input is cut short while it runs, one waits in the
queue. Run under a display, e.g.
``Xvfb :91 -screen 0 1600x1000x24 & DISPLAY=:91 python scripts/screenshots/main_window.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "gui"))

from dashboard_helpers import HEAVY, LONG_GEOMETRY, make_flow, truncate_after  # noqa: E402

from seisproc.gui.app import build_main_window  # noqa: E402
from seisproc.gui.main_window import MainWindow  # noqa: E402
from seisproc.gui.toast import ToastNotification  # noqa: E402
from seisproc.io.synth import SurveyGeometry, synthesize_survey  # noqa: E402
from seisproc.jobs.model import Job, JobState  # noqa: E402

IMAGES = ROOT / "docs" / "images"
S = JobState


def pump(until: Callable[[], bool], timeout_s: float = 120.0) -> None:
    """Run the event loop until ``until()`` (the window stays live meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the jobs did not reach the wanted states in time")
        QApplication.processEvents()
        time.sleep(0.02)


def state(window: MainWindow, job: Job) -> JobState:
    return window.manager.get(job.id).state


def submit_jobs(window: MainWindow, data: Path) -> dict[str, Job]:
    """The six jobs, in the states the screenshot shows."""
    manager = window.manager
    small = synthesize_survey(data / "line_07_shots.sgy",
                              SurveyGeometry(shots=12, channels=48, samples=1001))
    long = synthesize_survey(data / "line_12_shots.sgy", LONG_GEOMETRY)
    cut = data / "line_15_shots.sgy"
    shutil.copyfile(long, cut)
    done = manager.submit(make_flow(small, data / "line_07_agc.sgy", name="Line 07 bandpass + AGC"))
    pump(lambda: state(window, done) is S.COMPLETED)
    jobs = {"done": done}
    for key, name, source in (("running", "Line 12 decon", long),
                              ("paused", "Line 12 decon (test panel)", long),
                              ("failed", "Line 15 decon", cut)):
        jobs[key] = manager.submit(make_flow(source, data / f"{key}.sgy", HEAVY, name=name))
    pump(lambda: all(manager.get(j.id).progress.units_done >= 1 for k, j in jobs.items()
                     if k != "done"))
    truncate_after(cut, traces=LONG_GEOMETRY.channels * 8)
    manager.pause(jobs["paused"].id)
    pump(lambda: state(window, jobs["failed"]) is S.FAILED)
    jobs["deep"] = manager.submit(make_flow(long, data / "deep.sgy", HEAVY,
                                            name="Line 12 deep-water decon"))
    jobs["queued"] = manager.submit(make_flow(long, data / "queued.sgy", HEAVY,
                                              name="Line 12 final gain"))
    return jobs


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as cleanup:
        os.environ["SEISPROC_HOME"] = str(Path(folder) / "home")
        # The default layout, and the user's own settings left alone.
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)
        data = Path(folder) / "data"
        data.mkdir()
        window = build_main_window(cleanup, workers=2, max_running=3)
        window.resize(1400, 850)
        window.show()
        jobs = submit_jobs(window, data)
        dashboard = window.dashboard
        pump(lambda: window.manager.get(jobs["deep"].id).progress.units_done >= 2)
        pump(lambda: window.resource_monitor.latest_snapshot() is not None, 10)
        dashboard.select_job(jobs["running"].id)
        settle(app, 1.0)
        for toast in window.findChildren(ToastNotification):  # docs/images/toasts.png shows
            toast.dismiss()                                    # them; here they would hide
        settle(app, 1.5)                                       # the alerts panel
        IMAGES.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(IMAGES / "main_window.png"))
        dashboard.select_job(jobs["failed"].id)
        settle(app, 0.5)
        dashboard.grab().save(str(IMAGES / "dashboard_failed_job.png"))
        print("saved", IMAGES / "main_window.png", IMAGES / "dashboard_failed_job.png")
        show_qc_gather(app, window, jobs["done"])
        window.grab().save(str(IMAGES / "main_window_viewer.png"))
        print("saved", IMAGES / "main_window_viewer.png")
        window.quit_with("cancel")


def show_qc_gather(app: QApplication, window: MainWindow, job: Job) -> None:
    """Select ``job`` and pick its sixth gather in the QC strip, as a click there does."""
    window.dashboard.select_job(job.id)
    strip = window.dashboard.details.qc_strip
    pump(lambda: len(strip.series()["rms"][0]) >= 6, 10)
    strip.gather_clicked.emit(int(strip.series()["rms"][0][5]))
    pump(lambda: window.viewer.current_frame is not None and not window.viewer.busy, 20)
    window.viewer.show_trace_headers(20, 1000.0)
    settle(app, 1.5)


def settle(app: QApplication, seconds: float) -> None:
    """Let bridges deliver, tables repaint and toasts finish sliding in."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


if __name__ == "__main__":
    main()
