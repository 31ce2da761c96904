"""The dashboard and jobs run from a terminal: a real ``seisproc run`` process, started
after the window opened, on the same history and the same Ray. The job must reach the
table within a second of its submission record, and each of its transitions (running,
paused and resumed by ``seisproc pause`` / ``seisproc resume``, completed) within a
second of the save that made it; its progress shows while it runs.

Lags are measured on this host's clock, from the time each save stamped on the job (the
``at`` of its transition log) to the moment the table model held that record or a later
one. Commands run as processes the event loop waits for, never blocking it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from dashboard_helpers import HEAVY, activate, make_flow, open_dashboard, shown
from PySide6.QtCore import Qt

from seisproc.engine import open_manager
from seisproc.gui.dashboard import JobTableModel
from seisproc.gui.dashboard.model import Column, format_clock
from seisproc.gui.main_window import MainWindow
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState, utcnow

pytestmark = pytest.mark.slow
S = JobState
LAG_S = 1.0
SEISPROC = [sys.executable, "-m", "seisproc"]


@pytest.fixture
def terminal_env(ray_cluster: None) -> dict[str, str]:
    """A terminal of the same user: the same seisproc home (the test's), joining the
    Ray this test process runs."""
    import ray

    return {**os.environ, "SEISPROC_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
            "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def window_manager() -> Iterator[JobManager]:
    """The engine ``seisproc gui`` opens, on the same history (it runs no job here)."""
    manager = open_manager()
    yield manager
    manager.close(active="cancel")
    manager.store.close()  # type: ignore[attr-defined]


class Arrivals:
    """When each record of a job reached the table model (this process's clock)."""

    def __init__(self, model: JobTableModel) -> None:
        self.model = model
        self.records: list[tuple[Job, datetime]] = []
        self._last: dict[str, datetime] = {}
        model.rowsInserted.connect(self._look)
        model.dataChanged.connect(self._look)

    def _look(self, *_: object) -> None:
        now = utcnow()
        for job in self.model.jobs():
            if self._last.get(job.id) != job.updated_at:
                self._last[job.id] = job.updated_at
                self.records.append((job, now))

    def lag_s(self, job_id: str, at: datetime) -> float:
        """Seconds from a save stamped ``at`` until the table held it (or a later one)."""
        for job, shown_at in self.records:
            if job.id == job_id and job.updated_at >= at:
                return (shown_at - at).total_seconds()
        return math.inf

    def states(self, job_id: str) -> list[JobState]:
        states = [job.state for job, _ in self.records if job.id == job_id]
        return [s for n, s in enumerate(states) if n == 0 or states[n - 1] is not s]


@dataclass
class Command:
    """A ``seisproc`` process, its output in a file (a pipe nobody reads could fill up)."""

    process: subprocess.Popen[bytes]
    output: Path

    def running(self) -> bool:
        return self.process.poll() is None


def start(env: dict[str, str], *args: str) -> Command:
    output = Path(env["SEISPROC_HOME"]) / f"{args[0]}-{utcnow():%H%M%S%f}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen([*SEISPROC, *args], env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return Command(process, output)


def finish(qtbot, command: Command, timeout_s: float = 60) -> None:
    """Wait for the command with the event loop running; it must succeed."""
    qtbot.waitUntil(lambda: not command.running(), timeout=int(timeout_s * 1000))
    assert command.process.returncode == 0, command.output.read_text()


def by_name(model: JobTableModel, name: str) -> Job | None:
    return next((job for job in model.jobs() if job.name == name), None)


def test_a_terminal_run_appears_within_a_second_and_each_transition_follows(
        qtbot, window_manager: JobManager, terminal_env: dict[str, str], long_survey: Path,
        tmp_path: Path) -> None:
    flow_file = tmp_path / "terminal.yaml"
    flow = make_flow(long_survey, tmp_path / "terminal.sgy", HEAVY, name="terminal-decon")
    flow_file.write_text(yaml.safe_dump(flow.to_mapping()))
    dashboard = open_dashboard(
        qtbot, window_manager, event_log=window_manager.store.job_events)  # type: ignore[attr-defined]
    activate(qtbot, dashboard)
    arrivals = Arrivals(dashboard.model)
    run = start(terminal_env, "run", str(flow_file))
    try:
        qtbot.waitUntil(lambda: by_name(dashboard.model, "terminal-decon") is not None,
                        timeout=60_000)
        job = by_name(dashboard.model, "terminal-decon")
        assert job is not None and job.owner != window_manager.owner
        qtbot.waitUntil(lambda: shown(dashboard, job.id).progress.traces_done > 0,
                        timeout=60_000)
        finish(qtbot, start(terminal_env, "pause", job.id))
        qtbot.waitUntil(lambda: shown(dashboard, job.id).state is S.PAUSED, timeout=10_000)
        finish(qtbot, start(terminal_env, "resume", job.id))
        qtbot.waitUntil(lambda: shown(dashboard, job.id).state is S.COMPLETED,
                        timeout=120_000)
        finish(qtbot, run, timeout_s=30)
    finally:
        if run.running():
            run.process.kill()
            run.process.wait()
    log = window_manager.store.job_events(job.id)  # type: ignore[attr-defined]
    transitions = [(event["to_state"], arrivals.lag_s(job.id, event["at"])) for event in log]
    states = [state for state, _ in transitions]
    assert states[:3] == [S.QUEUED, S.RUNNING, S.PAUSED] and states[-1] is S.COMPLETED
    assert all(lag < LAG_S for _, lag in transitions), transitions
    assert S.PAUSED in arrivals.states(job.id)
    progress = {record.progress.traces_done for record, _ in arrivals.records
                if record.id == job.id and record.state is S.RUNNING}
    assert len(progress) >= 2, "no live progress while it ran"
    assert dashboard.proxy.index(0, Column.ID).data() == job.id  # newest first
    row = dashboard.model.row_of(job.id)
    assert row is not None
    assert dashboard.model.index(row, Column.RATE).data()  # kept once it ended


# ---------------------------------------------------------------------- the whole window
@pytest.fixture
def window(qtbot, window_manager: JobManager, monkeypatch: pytest.MonkeyPatch):
    """The main window on the history (its analytics too), with its toasts recorded."""
    store = window_manager.store
    main = MainWindow(window_manager, event_log=store.job_events,  # type: ignore[attr-defined]
                      store=store)  # type: ignore[arg-type]
    qtbot.addWidget(main)
    main.toasts = []  # type: ignore[attr-defined]
    monkeypatch.setattr(main, "notify", lambda text, level="info": main.toasts.append(
        (text, level)))
    main.show()
    qtbot.waitUntil(lambda: main.dashboard.is_loaded, timeout=10_000)
    yield main
    main.quit_with("pause")


def qc_shown(window: MainWindow) -> list[int]:
    """Records the gathers counted by each QC the details pane draws."""
    strip = window.dashboard.details.qc_strip
    seen: list[int] = []
    draw = strip.show_qc

    def record(qc) -> None:
        seen.append(qc.gathers_seen)
        draw(qc)

    strip.show_qc = record  # type: ignore[method-assign]
    return seen


def test_a_terminal_run_in_the_window_shows_live_qc_pauses_and_ends_with_a_toast(
        qtbot, window: MainWindow, window_manager: JobManager,
        terminal_env: dict[str, str], long_survey: Path, tmp_path: Path) -> None:
    """The acceptance of issue 16, on the whole window: a job of ``seisproc run`` shows
    within a second of its submission, with live progress and its QC (which only the
    terminal's process measures), ``seisproc pause`` shows PAUSED within a second, and
    its completion pops a toast."""
    flow_file = tmp_path / "window.yaml"
    flow = make_flow(long_survey, tmp_path / "window.sgy", HEAVY, name="window-decon")
    flow_file.write_text(yaml.safe_dump(flow.to_mapping()))
    dashboard = window.dashboard
    arrivals = Arrivals(dashboard.model)
    qc = qc_shown(window)
    run = start(terminal_env, "run", str(flow_file))
    try:
        qtbot.waitUntil(lambda: by_name(dashboard.model, "window-decon") is not None,
                        timeout=60_000)
        job = by_name(dashboard.model, "window-decon")
        assert job is not None and job.owner != window_manager.owner
        assert dashboard.select_job(job.id)
        qtbot.waitUntil(lambda: len({n for n in qc if n}) >= 2, timeout=60_000)
        finish(qtbot, start(terminal_env, "pause", job.id))
        qtbot.waitUntil(lambda: shown(dashboard, job.id).state is S.PAUSED, timeout=10_000)
        assert window.indicator.counts.paused == 1
        finish(qtbot, start(terminal_env, "resume", job.id))
        qtbot.waitUntil(lambda: shown(dashboard, job.id).state is S.COMPLETED,
                        timeout=300_000)
        qtbot.waitUntil(lambda: bool(window.toasts), timeout=2_000)
        finish(qtbot, run, timeout_s=30)
    finally:
        if run.running():
            run.process.kill()
            run.process.wait()
    log = window_manager.store.job_events(job.id)  # type: ignore[attr-defined]
    lags = {event["to_state"]: arrivals.lag_s(job.id, event["at"]) for event in log}
    assert lags[S.QUEUED] < LAG_S and lags[S.PAUSED] < LAG_S, lags
    assert len({r.progress.traces_done for r, _ in arrivals.records
                if r.id == job.id and r.state is S.RUNNING}) >= 2, "no live progress"
    assert window.toasts == [(f"Job “window-decon” completed in "
                              f"{format_clock(shown(dashboard, job.id).duration_s)}",
                              "success")]
    total = window_manager.store.get_job(job.id).progress.units_total  # type: ignore[attr-defined]
    dashboard.details.refresh_qc()
    assert qc[-1] > 0 and qc[-1] >= total, "the QC of its last units never came"


def test_escape_in_the_window_cancels_a_terminal_run_and_the_status_bar_follows(
        qtbot, window: MainWindow, terminal_env: dict[str, str], long_survey: Path,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Escape`` counts and cancels the jobs of other processes too (the terminal's
    process obeys the request); "Cancelling 1 job" gives way to "1 job cancelled" once
    the table shows it, and the status bar's counts are the table's."""
    flow_file = tmp_path / "escape.yaml"
    flow = make_flow(long_survey, tmp_path / "escape.sgy", HEAVY, name="escape-decon")
    flow_file.write_text(yaml.safe_dump(flow.to_mapping()))
    dashboard = window.dashboard
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    asked: list[int] = []
    monkeypatch.setattr(window, "confirm_cancel_all", lambda n: asked.append(n) or True)
    run = start(terminal_env, "run", str(flow_file))
    try:
        qtbot.waitUntil(lambda: (job := by_name(dashboard.model, "escape-decon")) is not None
                        and job.progress.traces_done > 0, timeout=60_000)
        job = by_name(dashboard.model, "escape-decon")
        assert job is not None
        assert window.indicator.counts.running == 1
        activate(qtbot, window)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert asked == [1]
        qtbot.waitUntil(lambda: shown(dashboard, job.id).state is S.CANCELLED, timeout=10_000)
        qtbot.waitUntil(lambda: "1 job cancelled" in messages, timeout=2_000)
        assert "Cancelling 1 job" in messages
        assert window.statusBar().currentMessage() == "1 job cancelled"
        assert window.indicator.label.text() == "0 running · 0 queued"
        qtbot.waitUntil(lambda: not run.running(), timeout=30_000)
    finally:
        if run.running():
            run.process.kill()
            run.process.wait()
