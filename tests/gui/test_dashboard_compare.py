"""Compare two selected jobs from the dashboard: the flows' differences parameter by
parameter, the environments', and the outputs' per gather, in a dialog filled off the GUI
thread, with the most different gather one click from the viewer.

The two jobs really run (an in-process executor, real processing and real outputs), and
the dialog's figures are checked against the outputs read here with segyio's reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import segyio
from dashboard_helpers import make_flow, open_dashboard, select, shown

from seisproc.gui.dashboard.compare import compare_jobs
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job, JobState
from seisproc.production import record_provenance

S = JobState


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    """Runs jobs in this process (two at a time)."""
    manager = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                         CheckpointStore(tmp_path / "checkpoints"), max_running=2)
    yield manager
    manager.close(active="cancel")


def _agc_job(manager: JobManager, survey: Path, output: Path, window_ms: float) -> Job:
    flow = make_flow(survey, output, [{"agc": {"window_ms": window_ms}}], name="agc")
    return manager.submit(flow, provenance=record_provenance(flow))


def _completed(qtbot, dashboard, *jobs: Job) -> list[Job]:
    qtbot.waitUntil(lambda: all(dashboard.model.row_of(job.id) is not None
                                and shown(dashboard, job.id).state is S.COMPLETED
                                for job in jobs), timeout=30_000)
    return [shown(dashboard, job.id) for job in jobs]


def test_two_runs_differing_in_the_agc_window_name_it_and_show_the_worst_gather(
        qtbot, manager: JobManager, small_survey: Path, tmp_path: Path) -> None:
    dashboard = open_dashboard(qtbot, manager)
    a, b = _completed(qtbot, dashboard,
                      _agc_job(manager, small_survey, tmp_path / "a.sgy", 100.0),
                      _agc_job(manager, small_survey, tmp_path / "b.sgy", 400.0))
    select(dashboard, a.id, b.id)
    assert dashboard.compare_action.isEnabled()
    dialog = dashboard.compare_selected()
    assert dialog is not None
    with qtbot.waitSignal(dialog.ready, timeout=30_000):
        pass
    comparison = dialog.comparison
    assert comparison is not None and comparison.outputs is not None
    text = dialog.summary.toPlainText()
    assert "window_ms" in text and "100" in text and "400" in text
    assert "environment: the same" in text
    assert "Outputs differ" in dialog.verdict.text()
    with segyio.open(a.output, ignore_geometry=True) as fa, \
            segyio.open(b.output, ignore_geometry=True) as fb:
        samples_a, samples_b = fa.trace.raw[:], fb.trace.raw[:]
    largest = float(np.max(np.abs(samples_a - samples_b)))
    worst = comparison.outputs.worst()
    assert worst is not None and worst.max_abs_diff == pytest.approx(largest, rel=1e-5)
    assert dialog.gathers.rowCount() == len(comparison.outputs.differing()) > 0
    assert dialog.gathers.item(0, 0).text() == f"ffid={worst.key}"
    with qtbot.waitSignal(dashboard.gather_requested, timeout=2_000) as asked:
        dialog.show_worst.click()
    assert asked.args[0].id == a.id and asked.args[1] == worst.key
    dialog.close()


def test_a_job_and_a_rerun_of_the_same_flow_are_identical(
        qtbot, manager: JobManager, small_survey: Path, tmp_path: Path) -> None:
    dashboard = open_dashboard(qtbot, manager)
    a, b = _completed(qtbot, dashboard,
                      _agc_job(manager, small_survey, tmp_path / "a.sgy", 250.0),
                      _agc_job(manager, small_survey, tmp_path / "b.sgy", 250.0))
    comparison = compare_jobs(a, b)
    assert comparison.flow == [] and comparison.outputs is not None
    assert comparison.outputs.identical
    assert any(line.startswith("files: output") for line in comparison.lines())


def test_a_job_without_its_output_is_compared_in_flow_and_says_why_not_in_output(
        qtbot, idle_manager: JobManager, small_survey: Path, tmp_path: Path) -> None:
    dashboard = open_dashboard(qtbot, idle_manager)
    a = _agc_job(idle_manager, small_survey, tmp_path / "a.sgy", 100.0)
    b = _agc_job(idle_manager, small_survey, tmp_path / "b.sgy", 200.0)
    dashboard.model.apply_jobs([a, b])
    select(dashboard, a.id, b.id)
    dialog = dashboard.compare_selected()
    assert dialog is not None
    with qtbot.waitSignal(dialog.ready, timeout=10_000):
        pass
    assert dialog.verdict.text() == (f"Outputs not compared: {tmp_path / 'a.sgy'}: no such "
                                     "output (was the job completed?)")
    assert "window_ms 100" in dialog.summary.toPlainText()
    assert not dialog.show_worst.isEnabled()
    dialog.close()
