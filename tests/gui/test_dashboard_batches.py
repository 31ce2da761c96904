"""Batches in the dashboard: one collapsible row per batch with its combined progress and
ETA, its jobs as child rows; the filter box finds a batch by its id; a waiting job says
what it waits for. The last test runs a real ``seisproc run --each`` in a terminal
process on the window's history and Ray.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from dashboard_helpers import make_flow, open_dashboard, select, shown
from PySide6.QtCore import QModelIndex, Qt
from test_dashboard_terminal_jobs import finish, start

from seisproc.engine import open_manager
from seisproc.gui.dashboard.batches import (
    BatchColumn,
    BatchTreeModel,
    batch_progress,
    batch_states_text,
)
from seisproc.gui.dashboard.model import Column, JobTableModel
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobProgress, JobState

S = JobState


def _job(job_id: str, state: JobState, done: int, total: int, rate: float = 0.0,
         batch: str = "b1") -> Job:
    return Job(id=job_id, name="decon", state=state, batch=batch,
               progress=JobProgress(traces_done=done, traces_total=total, traces_per_s=rate))


# ---------------------------------------------------------------------- pure figures
def test_batch_progress_is_traces_done_over_all_jobs_and_eta_at_the_running_rate() -> None:
    jobs = [_job("a", S.COMPLETED, 1000, 1000), _job("b", S.RUNNING, 250, 1000, rate=50.0),
            _job("c", S.RUNNING, 0, 1000, rate=50.0)]
    progress = batch_progress(jobs)
    assert (progress.traces_done, progress.traces_total) == (1250, 3000)
    assert progress.fraction == pytest.approx(1250 / 3000)
    assert progress.eta_s == pytest.approx((3000 - 1250) / 100.0)


def test_a_job_not_yet_counted_weighs_as_the_mean_and_a_failed_one_adds_no_time() -> None:
    jobs = [_job("a", S.COMPLETED, 600, 600), _job("b", S.QUEUED, 0, 0),
            _job("c", S.FAILED, 100, 600)]
    progress = batch_progress(jobs)
    assert progress.traces_total == 600 + 600 + 100
    assert progress.eta_s is None  # nothing runs: no rate to extrapolate
    assert batch_states_text(jobs) == "1 queued · 1 failed · 1 completed"


# ---------------------------------------------------------------------- the tree model
@pytest.fixture
def batch_of_three(idle_manager: JobManager, small_survey: Path, tmp_path: Path
                   ) -> Callable[[str], list[Job]]:
    """Submits three queued jobs sharing batch ``batch`` (outputs in ``tmp_path``)."""

    def submit(batch: str) -> list[Job]:
        return [idle_manager.submit(make_flow(small_survey, tmp_path / f"{batch}-{n}.sgy",
                                              name=f"line-{n}"), batch=batch)
                for n in range(3)]

    return submit


def test_a_batch_is_one_row_with_its_jobs_as_children_and_the_table_stays_flat(
        qtbot, idle_manager: JobManager, batch_of_three, submit_idle) -> None:
    dashboard = open_dashboard(qtbot, idle_manager)
    jobs = batch_of_three("b-night")
    alone = submit_idle("alone")
    dashboard.model.apply_jobs([*jobs, alone])
    tree = dashboard.batches.model
    assert tree.batches() == ["b-night"]
    batch_row = tree.batch_index("b-night")
    assert tree.rowCount(batch_row) == 3
    assert [tree.job_at(tree.index(n, 0, batch_row)).id for n in range(3)] == \
        [job.id for job in jobs]
    assert "3 jobs" in batch_row.data() and "3 queued" in tree.index(0, BatchColumn.STATE).data()
    assert tree.rowCount(tree.index(0, 0, batch_row)) == 0  # a job row has no children
    assert dashboard.proxy.rowCount() == 4  # the table: every job, one row each


def test_a_progress_record_moves_the_batch_rows_combined_progress_and_eta(
        qtbot, idle_manager: JobManager, batch_of_three) -> None:
    model = JobTableModel()
    jobs = batch_of_three("b1")
    model.apply_jobs(jobs)
    tree = BatchTreeModel(model)
    changed: list[QModelIndex] = []
    tree.dataChanged.connect(lambda top, bottom, *_: changed.append(top))
    running = dataclasses.replace(
        jobs[0], state=S.RUNNING, updated_at=jobs[0].updated_at.replace(year=2100),
        progress=JobProgress(traces_done=72, traces_total=144, traces_per_s=36.0))
    model.apply_jobs([running])
    batch_row = tree.batch_index("b1")
    assert any(not index.parent().isValid() and index.row() == batch_row.row()
               for index in changed), "the batch row was not refreshed"
    # 72 of 144 traces; the other two count as the mean size, 144 each
    assert tree.index(batch_row.row(), BatchColumn.PROGRESS).data() == f"{100 * 72 / 432:.0f} %"
    assert tree.index(batch_row.row(), BatchColumn.ETA).data() == "0:10"  # 360 traces at 36/s
    child = tree.index(0, BatchColumn.STATE, batch_row)
    assert child.data() == "Running"


def test_the_filter_box_finds_a_batch_by_its_id_in_the_table_and_the_tree(
        qtbot, idle_manager: JobManager, batch_of_three, submit_idle) -> None:
    dashboard = open_dashboard(qtbot, idle_manager)
    first, second = batch_of_three("b-monday"), batch_of_three("b-tuesday")
    dashboard.model.apply_jobs([*first, *second, submit_idle("alone")])
    assert dashboard.batches.model.batches() == ["b-tuesday", "b-monday"]  # newest first
    dashboard.text_filter.setText("B-MONDAY")
    shown_ids = {dashboard.proxy.index(row, Column.ID).data()
                 for row in range(dashboard.proxy.rowCount())}
    assert shown_ids == {job.id for job in first}
    assert dashboard.batches.model.batches() == ["b-monday"]
    dashboard.text_filter.setText("")
    assert dashboard.proxy.rowCount() == 7


def test_a_batch_row_selected_in_the_tree_gives_its_jobs_to_the_actions(
        qtbot, idle_manager: JobManager, batch_of_three) -> None:
    dashboard = open_dashboard(qtbot, idle_manager)
    jobs = batch_of_three("b1")
    dashboard.model.apply_jobs(jobs)
    dashboard.tabs.setCurrentWidget(dashboard.batches)
    dashboard.batches.tree.selectionModel().select(
        dashboard.batches.model.batch_index("b1"),
        dashboard.batches.tree.selectionModel().SelectionFlag.ClearAndSelect
        | dashboard.batches.tree.selectionModel().SelectionFlag.Rows)
    assert [job.id for job in dashboard.selected_jobs()] == [job.id for job in jobs]
    assert dashboard.cancel_action.isEnabled() and dashboard.pause_action.isEnabled()
    assert not dashboard.compare_action.isEnabled()  # three jobs, not two
    dashboard.tabs.setCurrentWidget(dashboard.view)
    assert dashboard.selected_jobs() == []  # the table's own selection


def test_a_waiting_job_says_what_it_waits_for_in_its_tooltips(
        qtbot, idle_manager: JobManager, batch_of_three, small_survey: Path,
        tmp_path: Path) -> None:
    dashboard = open_dashboard(qtbot, idle_manager)
    jobs = batch_of_three("b1")
    waiting = idle_manager.submit(make_flow(small_survey, tmp_path / "after.sgy", name="after"),
                                  batch="b2", after=[jobs[0].id])
    dashboard.model.apply_jobs([*jobs, waiting])
    qtbot.waitUntil(lambda: shown(dashboard, waiting.id).state is S.WAITING, timeout=5_000)
    job = shown(dashboard, waiting.id)
    message = f"{job.message}\nwaits for job {jobs[0].id}"
    assert job.message.startswith("waiting for")
    row = dashboard.model.row_of(waiting.id)
    assert dashboard.model.index(row, Column.STATE).data(Qt.ItemDataRole.ToolTipRole) == message
    tree = dashboard.batches.model
    child = tree.index(0, BatchColumn.STATE, tree.batch_index("b2"))
    assert child.data() == "Waiting"
    assert child.data(Qt.ItemDataRole.ToolTipRole) == message
    select(dashboard, waiting.id)
    assert dashboard.details.job is not None and dashboard.details.job.id == waiting.id


# ---------------------------------------------------------------------- a real --each
@pytest.mark.slow
def test_a_batch_run_from_a_terminal_groups_in_one_row_and_completes_there(
        qtbot, ray_cluster: None, small_survey: Path, tmp_path: Path) -> None:
    import ray

    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "SEISPROC_RAY_ADDRESS": ray.get_runtime_context().gcs_address}
    raw = tmp_path / "raw"
    raw.mkdir()
    for n in range(3):
        shutil.copy(small_survey, raw / f"line_{n}.sgy")
    flow = make_flow(small_survey, tmp_path / "unused.sgy", name="each-line").to_mapping()
    flow["output"] = str(tmp_path / "{stem}_agc.sgy")
    flow_file = tmp_path / "each.yaml"
    flow_file.write_text(yaml.safe_dump(flow))
    manager = open_manager()
    try:
        dashboard = open_dashboard(qtbot, manager)
        finish(qtbot, start(env, "run", str(flow_file), "--each", str(raw / "line_*.sgy")),
               timeout_s=120)
        tree = dashboard.batches.model
        qtbot.waitUntil(lambda: len(tree.batches()) == 1
                        and len(tree.jobs_of(tree.batches()[0])) == 3, timeout=10_000)
        batch = tree.batches()[0]
        qtbot.waitUntil(lambda: all(job.state is S.COMPLETED for job in tree.jobs_of(batch)),
                        timeout=10_000)
        row = tree.batch_index(batch).row()
        assert tree.index(row, BatchColumn.PROGRESS).data() == "100 %"
        assert tree.index(row, BatchColumn.STATE).data() == "3 completed"
        assert {Path(job.input).name for job in tree.jobs_of(batch)} == \
            {f"line_{n}.sgy" for n in range(3)}
        assert all(Path(job.output).is_file() for job in tree.jobs_of(batch))
        dashboard.text_filter.setText(batch)
        assert dashboard.proxy.rowCount() == 3
    finally:
        manager.close(active="cancel")
        manager.store.close()  # type: ignore[attr-defined]
