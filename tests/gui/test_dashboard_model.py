"""The job table model, its filter, the dashboard's actions and the details pane.

Jobs here come from an idle JobManager (they stay QUEUED) or are made up as records;
tests/gui/test_dashboard_on_ray.py drives jobs that really run.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest
from dashboard_helpers import activate, open_dashboard, select, state_of
from PySide6.QtCore import Qt

from seisproc.alerts.rules import Alert, AlertStatus, Severity
from seisproc.gui.bridge import CoalescingBridge
from seisproc.gui.dashboard import JobDetailsPane, JobTableModel
from seisproc.gui.dashboard.actions import JobAction, allowed
from seisproc.gui.dashboard.model import SORT_ROLE, Column, JobFilterProxy, format_clock
from seisproc.gui.notifications import alert_summary, job_toasts
from seisproc.gui.status_indicator import JobCounts, JobStatusIndicator
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, utcnow

S = JobState


def job(n: int, state: JobState = S.RUNNING, **changes: object) -> Job:
    start = utcnow() - timedelta(seconds=65)
    record = Job(id=f"job{n:08d}", name=f"line {n}", state=state, created_at=start,
                 started_at=start if state is not S.QUEUED else None, updated_at=start)
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def event(record: Job, kind: JobEventKind = JobEventKind.PROGRESS) -> JobEvent:
    return JobEvent(kind, record)


class Signals:
    """Counts a model's change signals."""

    def __init__(self, model: JobTableModel) -> None:
        self.changed: list[tuple[int, int, int, int]] = []
        self.inserted: list[tuple[int, int]] = []
        self.resets = 0
        model.dataChanged.connect(lambda a, b, *_: self.changed.append(
            (a.row(), b.row(), a.column(), b.column())))
        model.rowsInserted.connect(lambda _, first, last: self.inserted.append((first, last)))
        model.modelReset.connect(self._reset)

    def _reset(self) -> None:
        self.resets += 1


# ---------------------------------------------------------------------- the model
def test_a_thousand_jobs_updating_at_once_reach_the_table_in_a_few_batches(qtbot):
    model = JobTableModel()
    bridge: CoalescingBridge[JobEvent] = CoalescingBridge(interval_ms=50)
    deliveries: list[int] = []
    bridge.delivered.connect(lambda batch: deliveries.append(len(batch)))
    bridge.delivered.connect(model.apply_events)
    signals = Signals(model)
    jobs = [job(n) for n in range(1_000)]

    def driver() -> None:  # what the scheduler thread does: submit all, then progress
        for record in jobs:
            bridge.post(event(record, JobEventKind.SUBMITTED))
        for units in range(1, 11):
            for record in jobs:
                bridge.post(event(dataclasses.replace(
                    record, progress=JobProgress(units, 10, 100 * units, 1_000, 500.0, 9.0))))

    thread = threading.Thread(target=driver)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: sum(deliveries) == 11_000, timeout=5_000)

    assert model.rowCount() == 1_000
    assert all(j.progress.units_done == 10 for j in model.jobs())
    assert len(deliveries) <= 20  # 11,000 events, coalesced
    assert signals.resets == 0
    assert len(signals.inserted) <= len(deliveries)  # one insertion per batch at most
    assert len(signals.changed) <= len(deliveries)  # all rows are one run: one signal a batch


def test_new_jobs_are_listed_newest_first():
    model = JobTableModel()
    model.apply_jobs([job(1), job(2)])
    model.apply_jobs([job(3)])
    assert [j.id for j in model.jobs()] == ["job00000003", "job00000002", "job00000001"]
    assert model.row_of("job00000001") == 2


def test_only_the_rows_that_changed_are_refreshed_in_runs():
    model = JobTableModel()
    model.apply_jobs([job(n) for n in range(10)])  # rows 0..9 hold jobs 9..0
    signals = Signals(model)
    model.apply_jobs([dataclasses.replace(job(n), message="x") for n in (9, 8, 7, 2)])
    assert [(a, b) for a, b, *_ in signals.changed] == [(0, 2), (7, 7)]
    assert signals.inserted == []


def test_a_late_older_record_never_turns_a_finished_job_back():
    model = JobTableModel()
    running = job(1)
    done = dataclasses.replace(running, state=S.COMPLETED,
                               updated_at=running.updated_at + timedelta(seconds=5))
    model.apply_jobs([done])
    model.apply_jobs([running])
    assert model.job_at(0).state is S.COMPLETED


def test_cells_read_as_a_person_expects():
    model = JobTableModel()
    model.apply_jobs([job(1, progress=JobProgress(3, 10, 300, 1_000, 1234.4, 75.0)),
                      job(2, state=S.PAUSED, progress=JobProgress(5, 10, 500, 1_000, 800, 20))])
    paused, running = 0, 1

    def cell(row: int, column: Column, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        return model.data(model.index(row, column), role)

    assert [cell(running, c) for c in (Column.NAME, Column.TYPE, Column.STATE, Column.PROGRESS,
                                       Column.RATE, Column.ETA, Column.ELAPSED)] == [
        "line 1", "Processing", "Running", "30 %", "1,234", "1:15", "1:05"]
    assert cell(paused, Column.RATE) == "" and cell(paused, Column.ETA) == ""
    assert cell(paused, Column.STATE) == "Paused"
    assert cell(running, Column.RATE, SORT_ROLE) == pytest.approx(1234.4)
    assert cell(paused, Column.RATE, SORT_ROLE) == -1.0  # no rate sorts below any rate
    assert model.headerData(Column.ETA, Qt.Orientation.Horizontal) == "ETA"
    assert format_clock(3_723) == "1:02:03" and format_clock(None) == ""


def test_the_clock_tick_refreshes_only_the_elapsed_time_of_started_jobs():
    model = JobTableModel()
    model.apply_jobs([job(1), job(2, state=S.COMPLETED), job(3, state=S.QUEUED), job(4)])
    signals = Signals(model)
    model.tick()
    rows = {model.row_of("job00000001"), model.row_of("job00000004")}
    refreshed = {row for first, last, *_ in signals.changed for row in range(first, last + 1)}
    assert refreshed == rows
    assert {(c0, c1) for *_, c0, c1 in signals.changed} == {(Column.ELAPSED, Column.ELAPSED)}
    assert signals.resets == 0


# ---------------------------------------------------------------------- the dashboard
def test_the_state_filter_shows_only_jobs_in_those_states(qtbot, idle_manager, submit_idle):
    waiting = submit_idle("waiting")
    paused = submit_idle("held")
    idle_manager.pause(paused.id)
    dashboard = open_dashboard(qtbot, idle_manager)
    qtbot.waitUntil(lambda: state_of(dashboard, paused.id) is S.PAUSED)

    dashboard.state_filter.setCurrentText("Paused or interrupted")
    listed = [dashboard.proxy.index(r, Column.NAME).data() for r in range(
        dashboard.proxy.rowCount())]
    assert listed == ["held"]
    dashboard.state_filter.setCurrentText("Queued")
    assert dashboard.proxy.rowCount() == 1
    dashboard.state_filter.setCurrentText("All jobs")
    assert dashboard.proxy.rowCount() == 2
    assert dashboard.select_job(waiting.id)


def test_buttons_follow_the_selection_and_act_on_every_selected_job(
        qtbot, idle_manager, submit_idle, monkeypatch):
    first, second = submit_idle("first"), submit_idle("second")
    dashboard = open_dashboard(qtbot, idle_manager)
    assert not dashboard.pause_action.isEnabled()  # nothing selected

    select(dashboard, first.id, second.id)
    assert dashboard.pause_action.isEnabled() and dashboard.cancel_action.isEnabled()
    assert not dashboard.resume_action.isEnabled()
    dashboard.pause_action.trigger()
    qtbot.waitUntil(lambda: {state_of(dashboard, j.id) for j in (first, second)} == {S.PAUSED})
    assert dashboard.resume_action.isEnabled() and not dashboard.pause_action.isEnabled()

    dashboard.resume_action.trigger()
    qtbot.waitUntil(lambda: {state_of(dashboard, j.id) for j in (first, second)} == {S.QUEUED})
    asked: list[int] = []
    monkeypatch.setattr(dashboard, "confirm_cancel", lambda jobs: asked.append(len(jobs)) or 0)
    dashboard.cancel_action.trigger()  # the user says no
    assert asked == [2] and idle_manager.get(first.id).state is S.QUEUED
    monkeypatch.setattr(dashboard, "confirm_cancel", lambda jobs: True)
    dashboard.cancel_action.trigger()
    qtbot.waitUntil(lambda: {state_of(dashboard, j.id) for j in (first, second)}
                    == {S.CANCELLED})
    assert not any(a.isEnabled() for a in (dashboard.pause_action, dashboard.resume_action,
                                           dashboard.cancel_action))


def test_space_toggles_pause_and_resume_from_the_keyboard(qtbot, idle_manager, submit_idle):
    waiting = submit_idle("waiting")
    dashboard = open_dashboard(qtbot, idle_manager)
    activate(qtbot, dashboard)
    select(dashboard, waiting.id)
    dashboard.view.setFocus()
    qtbot.keyClick(dashboard.view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state_of(dashboard, waiting.id) is S.PAUSED)
    qtbot.keyClick(dashboard.view, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: state_of(dashboard, waiting.id) is S.QUEUED)
    qtbot.keyClick(dashboard.view, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: state_of(dashboard, waiting.id) is S.PAUSED)


def test_illegal_actions_are_never_offered():
    matrix = {state: {a for a in JobAction if allowed(a, job(1, state=state))} for state in S}
    assert matrix[S.RUNNING] == {JobAction.PAUSE, JobAction.CANCEL}
    assert matrix[S.PAUSED] == {JobAction.RESUME, JobAction.CANCEL}
    assert matrix[S.INTERRUPTED] == {JobAction.RESUME, JobAction.CANCEL}
    assert matrix[S.FAILED] == {JobAction.RESUME, JobAction.CANCEL}  # run again, give up
    assert matrix[S.WAITING] == {JobAction.CANCEL}
    assert matrix[S.COMPLETED] == matrix[S.CANCELLED] == set()
    assert matrix[S.CANCELLING] == set()


def test_a_job_run_by_another_process_gets_a_control_request(qtbot, idle_manager, submit_idle):
    mine = submit_idle("mine")
    dashboard = open_dashboard(qtbot, idle_manager)
    foreign = dataclasses.replace(idle_manager.get(mine.id), id="elsewhere001", owner="h:1")
    idle_manager.store.save_job(foreign)
    dashboard.model.apply_jobs([foreign])
    monkeypatch_alive = pytest.MonkeyPatch()
    monkeypatch_alive.setattr("seisproc.gui.dashboard.actions.owner_alive",
                            lambda job, store=None: True)
    try:
        select(dashboard, foreign.id)
        with qtbot.waitSignal(dashboard.status_message, timeout=5000):
            dashboard.pause_action.trigger()  # written to the history off the GUI thread
    finally:
        monkeypatch_alive.undo()
    requests = idle_manager.store.take_control_requests([foreign.id])
    assert [(r.job_id, r.action, r.message) for r in requests] == [
        ("elsewhere001", "pause",
         f"paused from the desktop application on {idle_manager.owner}")]


# ---------------------------------------------------------------------- details
def test_details_of_a_failed_job_open_on_its_error_with_the_traceback(qtbot):
    log = [{"at": utcnow(), "from_state": None, "to_state": S.QUEUED, "message": ""},
           {"at": utcnow(), "from_state": S.QUEUED, "to_state": S.RUNNING, "message": "run"},
           {"at": utcnow(), "from_state": S.RUNNING, "to_state": S.FAILED, "message": "bad"}]
    pane = JobDetailsPane(event_log=lambda job_id: log)
    qtbot.addWidget(pane)
    failed = job(7, state=S.FAILED, flow={"name": "line 7", "steps": [{"agc": {}}]},
                 error=JobError("ProcessingError", "gather ffid=1006, step 1: boom",
                                "Traceback (most recent call last):\n  File \"x.py\"\n",
                                "ffid=1006"))
    pane.show_job(failed)
    assert pane.tabs.currentWidget() is pane.error_text
    text = pane.error_text.toPlainText()
    assert "ProcessingError: gather ffid=1006" in text and "Traceback" in text
    assert "name: line 7" in pane.flow_text.toPlainText()
    assert pane.events.topLevelItemCount() == 3
    assert pane.events.topLevelItem(2).text(2) == "Failed"
    pane.show_job(job(8))
    error_tab = pane.tabs.indexOf(pane.error_text)
    assert not pane.tabs.isTabEnabled(error_tab) and pane.tabs.currentIndex() == 0


# ---------------------------------------------------------------------- status and toasts
def test_the_status_indicator_counts_every_active_job_the_table_lists(qtbot):
    """Jobs waiting for others (``--after``) are listed, so they are counted too."""
    model = JobTableModel()
    indicator = JobStatusIndicator(model)
    qtbot.addWidget(indicator)
    model.apply_jobs([job(1), job(2, state=S.WAITING), job(3, state=S.PAUSED)])
    qtbot.waitUntil(lambda: indicator.label.text()
                    == "1 running · 0 queued · 1 waiting · 1 paused")
    assert indicator.counts.active == 3


def test_the_status_indicator_counts_running_and_queued_jobs_and_clicks(qtbot):
    model = JobTableModel()
    indicator = JobStatusIndicator(model)
    qtbot.addWidget(indicator)
    model.apply_jobs([job(1, progress=JobProgress(1, 4, 250, 1_000)),
                      job(2, state=S.QUEUED), job(3, state=S.COMPLETED,
                                                  progress=JobProgress(4, 4, 1_000, 1_000)),
                      job(4, progress=JobProgress(3, 4, 750, 1_000))])
    qtbot.waitUntil(lambda: indicator.label.text() == "2 running · 1 queued")
    assert indicator.counts == JobCounts(running=2, queued=1, paused=0, fraction=0.5)
    assert indicator.bar.value() == 500
    with qtbot.waitSignal(indicator.clicked, timeout=1_000):
        qtbot.mouseClick(indicator, Qt.MouseButton.LeftButton)


def test_many_finished_jobs_make_one_toast_per_outcome():
    ended = [event(job(n, state=S.COMPLETED), JobEventKind.STATE_CHANGED) for n in range(8)]
    failed = event(job(9, state=S.FAILED, message="bad gather"), JobEventKind.STATE_CHANGED)
    assert job_toasts(ended + [failed]) == [
        ("8 jobs completed: “line 0”, “line 1”, “line 2” and 5 more", "success"),
        ("1 jobs failed: “line 9”", "error")]
    assert job_toasts([failed]) == [("Job “line 9” failed: bad gather", "error")]
    assert job_toasts([failed], failures=False) == []  # the job_failed alert toasts it
    assert job_toasts([event(job(1))]) == []  # progress is not news


def test_a_burst_of_alerts_is_summed_up_in_one_toast_at_the_worst_severity():
    firing = Alert("high_memory", Severity.WARNING, AlertStatus.FIRING, "memory at 91%")
    resolved = dataclasses.replace(firing, status=AlertStatus.RESOLVED)
    failed = dataclasses.replace(firing, rule="job_failed", severity=Severity.CRITICAL)
    assert alert_summary([firing, resolved]) is None  # few: one toast each
    assert alert_summary([firing, failed, failed, resolved]) == (
        "3 alerts (high_memory, job_failed ×2), 1 resolved; see the Resource Monitor",
        "critical")


def test_an_action_never_waits_for_the_history_on_the_gui_thread(qtbot, idle_manager,
                                                                  submit_idle):
    """A job of another process gets its request through the history; with that
    history locked for a while, the click returns at once and the answer comes later."""
    import threading
    import time

    mine = submit_idle("mine")
    foreign = dataclasses.replace(idle_manager.get(mine.id), id="elsewhere002", owner="h:2")
    idle_manager.store.save_job(foreign)
    dashboard = open_dashboard(qtbot, idle_manager)
    dashboard.model.apply_jobs([foreign])
    locked = threading.Event()
    real = idle_manager.store.request_control

    def slow_request(*args, **kwargs):  # a database another program holds locked
        locked.wait(5)
        return real(*args, **kwargs)

    idle_manager.store.request_control = slow_request
    select(dashboard, foreign.id)
    began = time.monotonic()
    dashboard.pause_action.trigger()
    assert time.monotonic() - began < 0.2
    with qtbot.waitSignal(dashboard.status_message, timeout=5000) as said:
        locked.set()
    assert said.args == ["Pausing 1 job"]


def test_a_progress_record_refreshes_the_progress_cells_and_the_sorted_view_stays_put(
        qtbot):
    """Other processes' running jobs save their progress several times a second: such a
    record repaints the progress columns of its row, and the view (sorted by submission)
    is not sorted again; a state change refreshes the whole row."""
    model = JobTableModel()
    proxy = JobFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.SUBMITTED, Qt.SortOrder.DescendingOrder)
    records = [job(n) for n in range(3)]
    model.apply_jobs(records)
    signals = Signals(model)
    layouts: list[object] = []
    proxy.layoutChanged.connect(lambda *_: layouts.append(1))
    moved = dataclasses.replace(records[1], progress=JobProgress(2, 10, 200, 1_000, 400.0),
                                updated_at=records[1].updated_at + timedelta(seconds=1))
    model.apply_jobs([moved])
    row = model.row_of(moved.id)
    assert signals.changed == [(row, row, Column.PROGRESS, Column.ELAPSED)]
    assert layouts == []
    paused = dataclasses.replace(moved, state=S.PAUSED,
                                 updated_at=moved.updated_at + timedelta(seconds=1))
    model.apply_jobs([paused])
    assert signals.changed[-1] == (row, row, 0, len(Column) - 1)
