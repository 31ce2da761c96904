"""Fixtures and helpers of the dashboard and main-window tests (imported by those modules).

Two engines: an *idle* JobManager on in-process adapters whose jobs stay QUEUED
(``max_running=0``), for the widgets' own logic, and the real engine on Ray
(:func:`seisproc.engine.open_manager`) for jobs that run, pause, fail and cancel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from seisproc.engine import open_manager
from seisproc.gui.dashboard import JobDashboard
from seisproc.io.segy import open_segy
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job, JobState
from seisproc.processing.flow import Flow

LONG_GEOMETRY = SurveyGeometry(shots=300, channels=48, samples=1001, dt_ms=4.0)
"""60 MB; with :data:`HEAVY` about 8 s of one core: a job caught running, paused, resumed."""
HEAVY = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
         {"spiking_decon": {"operator_ms": 2000}}]
LIGHT = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 500}}]


def make_flow(survey: Path, output: Path, steps: list | None = None,
              name: str = "gui-test") -> Flow:
    return Flow.from_mapping({"name": name, "input": str(survey), "output": str(output),
                              "gather_by": "ffid", "steps": steps or LIGHT})


def truncate_after(path: Path, traces: int) -> None:
    """Cut ``path`` after its first ``traces`` traces, as a copy that ran out of disk does."""
    with open_segy(path) as segy:
        keep = segy.layout.data_offset + traces * segy.layout.trace_bytes
    os.truncate(path, keep)


def state_of(dashboard: JobDashboard, job_id: str) -> JobState | None:
    """The state the dashboard's table shows for the job (``None``: not listed)."""
    row = dashboard.model.row_of(job_id)
    return None if row is None else dashboard.model.job_at(row).state


def shown(dashboard: JobDashboard, job_id: str) -> Job:
    row = dashboard.model.row_of(job_id)
    assert row is not None, f"job {job_id} is not in the table"
    return dashboard.model.job_at(row)


def select(dashboard: JobDashboard, *job_ids: str) -> None:
    """Select exactly these jobs' rows, as ctrl-clicks would."""
    from PySide6.QtCore import QItemSelectionModel

    selection = dashboard.view.selectionModel()
    selection.clearSelection()
    flags = (QItemSelectionModel.SelectionFlag.Select
             | QItemSelectionModel.SelectionFlag.Rows)
    for job_id in job_ids:
        row = dashboard.model.row_of(job_id)
        assert row is not None
        index = dashboard.proxy.mapFromSource(dashboard.model.index(row, 0))
        selection.select(index, flags)
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)


def activate(qtbot, widget) -> None:
    """Show ``widget`` as the active window, so its keyboard shortcuts fire.

    Offscreen, ``activateWindow`` leaves no window active; asking the window handle does.
    """
    from PySide6.QtWidgets import QApplication

    widget.show()
    qtbot.waitExposed(widget)
    widget.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget.window(), timeout=2_000)


# ------------------------------------------------------------------- fixture bodies
# tests/gui/conftest.py and the Ray test modules define their fixtures as ``yield from``
# these; Ray itself is the session's ``ray_cluster`` (tests/conftest.py).
def idle_engine(tmp_path: Path) -> Iterator[JobManager]:
    """A JobManager whose jobs wait in the queue forever (``max_running=0``)."""
    manager = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=1),
                         CheckpointStore(tmp_path / "checkpoints"), max_running=0)
    yield manager
    manager.close(active="cancel")


def idle_submitter(manager: JobManager, survey: Path, folder: Path) -> Callable[[str], Job]:
    """Submits a job named ``name`` (its output in ``folder``) to ``manager``."""

    def submit(name: str) -> Job:
        return manager.submit(make_flow(survey, folder / f"{name}.sgy", name=name))

    return submit


def ray_engine(max_running: int = 2) -> Iterator[JobManager]:
    """The real engine (SQLite history in the test's home, two Ray workers)."""
    manager = open_manager(workers=2, max_running=max_running)
    yield manager
    manager.close(active="cancel")  # frees both CPUs for the next test's pool
    manager.store.close()  # type: ignore[attr-defined]


def long_survey_in(folder: Path) -> Path:
    """:data:`LONG_GEOMETRY` written in ``folder``."""
    return synthesize_survey(folder / "long.sgy", LONG_GEOMETRY)


def open_dashboard(qtbot, manager: JobManager, **kwargs) -> JobDashboard:
    """A dashboard on ``manager`` once the jobs it lists at start are in its table (they
    are read off the GUI thread)."""
    dashboard = JobDashboard(manager, **kwargs)
    qtbot.addWidget(dashboard)
    qtbot.waitUntil(lambda: dashboard.is_loaded, timeout=10_000)
    return dashboard
