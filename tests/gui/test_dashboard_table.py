"""Jobs you can tell apart: the table's columns, its default order (newest first) and its
text filter; the history feed that brings other processes' jobs, and a locked history.

tests/gui/test_dashboard_terminal_jobs.py runs the same dashboard against real
``seisproc run`` processes.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_helpers import make_flow, open_dashboard, shown
from PySide6.QtCore import Qt

from seisproc.gui.dashboard import JobDashboard, JobTableModel
from seisproc.gui.dashboard.cells import format_submitted
from seisproc.gui.dashboard.feed import HistoryFeed
from seisproc.gui.dashboard.model import Column
from seisproc.history import JobHistoryStorage
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import ThreadExecutor
from seisproc.jobs.model import Job, JobProgress, JobState, utcnow
from seisproc.jobs.transitions import transition

S = JobState
RAY_NODE = "5f3a9c" * 9 + "0b"  # 56 hex digits, as Ray names a node


def record(n: int, state: JobState = S.COMPLETED, **changes: object) -> Job:
    created = utcnow() - timedelta(minutes=10 - n)
    started = created + timedelta(seconds=5)
    finished = started + timedelta(seconds=40) if state.is_terminal() else None
    job = Job(id=f"{n:012x}", name="long-decon", state=state, created_at=created,
              started_at=started, finished_at=finished, updated_at=finished or started,
              owner="ws1:4242", input=f"/data/line_{n:02d}.sgy", nodes=(RAY_NODE, "node8"),
              progress=JobProgress(4, 4, 8_000, 8_000, 200.0))
    return dataclasses.replace(job, **changes)  # type: ignore[arg-type]


def cell(model: JobTableModel, job_id: str, column: Column,
         role: int = Qt.ItemDataRole.DisplayRole) -> object:
    row = model.row_of(job_id)
    assert row is not None
    return model.data(model.index(row, column), role)


def listed(dashboard: JobDashboard, column: Column = Column.ID) -> list[str]:
    proxy = dashboard.proxy
    return [proxy.index(row, column).data() for row in range(proxy.rowCount())]


# ---------------------------------------------------------------------- cells
def test_five_runs_of_one_flow_differ_by_id_submitted_time_owner_and_input():
    model = JobTableModel()
    model.this_process = "ws1:4242"
    runs = [record(n) for n in range(1, 6)]
    model.apply_jobs(runs)
    rows = {(cell(model, j.id, Column.ID), cell(model, j.id, Column.SUBMITTED),
             cell(model, j.id, Column.INPUT)) for j in runs}
    assert len(rows) == 5
    first = runs[0]
    assert cell(model, first.id, Column.NAME) == "long-decon"
    assert cell(model, first.id, Column.OWNER) == "ws1:4242"
    assert cell(model, first.id, Column.OWNER, Qt.ItemDataRole.ToolTipRole) == (
        "process 4242 on ws1 (this window)")
    assert cell(model, first.id, Column.INPUT) == "line_01.sgy"
    assert cell(model, first.id, Column.ID) == "000000000001"


def test_an_ended_job_keeps_its_traces_per_second_and_duration():
    model = JobTableModel()
    done = record(1)
    averaged = record(2, progress=JobProgress(4, 4, 8_000, 8_000, 0.0))  # no last rate
    paused = record(3, state=S.PAUSED)
    model.apply_jobs([done, averaged, paused])
    assert cell(model, done.id, Column.RATE) == "200"
    assert cell(model, averaged.id, Column.RATE) == "200"  # 8,000 traces in 40 s
    assert cell(model, done.id, Column.ELAPSED) == "0:40"
    assert cell(model, paused.id, Column.RATE) == ""  # a stale figure would mislead


def test_nodes_show_a_short_ray_node_id_with_the_full_one_in_the_tooltip():
    model = JobTableModel()
    job = record(1)
    model.apply_jobs([job])
    assert cell(model, job.id, Column.NODES) == "5f3a9c5f3a9c, node8"
    tip = cell(model, job.id, Column.NODES, Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tip, str) and RAY_NODE in tip.splitlines()


def test_submitted_reads_as_a_time_today_and_as_a_date_before():
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC).astimezone()
    assert format_submitted(now - timedelta(minutes=5), now) == (
        now - timedelta(minutes=5)).strftime("%H:%M:%S")
    assert format_submitted(now - timedelta(days=3), now) == (
        now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------- order and filters
def test_the_table_starts_newest_first_and_a_later_job_goes_on_top(
        qtbot, idle_manager, submit_idle):
    first, second = submit_idle("first"), submit_idle("second")
    dashboard = open_dashboard(qtbot, idle_manager)
    assert listed(dashboard) == [second.id, first.id]
    header = dashboard.view.horizontalHeader()
    assert header.sortIndicatorSection() == Column.SUBMITTED
    assert header.sortIndicatorOrder() is Qt.SortOrder.DescendingOrder
    older = record(1, created_at=first.created_at - timedelta(hours=1))
    third = submit_idle("third")
    dashboard.apply_history([older])  # an old job heard of late goes where it belongs
    qtbot.waitUntil(lambda: dashboard.model.row_of(third.id) is not None)
    assert listed(dashboard) == [third.id, second.id, first.id, older.id]


def test_the_text_filter_matches_name_owner_id_or_input(qtbot, idle_manager):
    dashboard = open_dashboard(qtbot, idle_manager)
    mine = record(1, name="velocity scan", owner="ws1:77")
    theirs = record(2, owner="ws2:88", input="/data/north.sgy")
    dashboard.apply_history([mine, theirs])
    for text, expected in (("VELOCITY", [mine.id]), ("ws2", [theirs.id]),
                           ("north", [theirs.id]), (mine.id[-4:], [mine.id]),
                           ("", [theirs.id, mine.id])):
        dashboard.text_filter.setText(text)
        assert listed(dashboard) == expected, text
    dashboard.text_filter.setText("ws")
    dashboard.state_filter.setCurrentText("Failed")
    assert listed(dashboard) == []


# ---------------------------------------------------------------------- the history feed
@pytest.fixture
def history(tmp_path) -> JobHistoryStorage:
    store = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    yield store
    store.close()


@pytest.fixture
def window_manager(history: JobHistoryStorage, tmp_path):
    """This window's manager on the shared history (its own jobs stay queued)."""
    manager = JobManager(history, lambda: ThreadExecutor(workers=1),
                         CheckpointStore(tmp_path / "checkpoints"), max_running=0)
    yield manager
    manager.close(active="cancel")


def test_a_job_another_process_saves_after_the_window_opened_joins_the_table(
        qtbot, window_manager, history, small_survey, tmp_path):
    dashboard = open_dashboard(qtbot, window_manager)
    assert dashboard.history_feed is not None
    elsewhere = Job(id="0e1sewhere01", name="terminal run", owner="ws2:99",
                    input=str(small_survey))
    history.save_job(elsewhere)
    qtbot.waitUntil(lambda: dashboard.model.row_of(elsewhere.id) is not None, timeout=1_000)
    history.save_job(transition(elsewhere, S.RUNNING))
    qtbot.waitUntil(lambda: shown(dashboard, elsewhere.id).state is S.RUNNING, timeout=1_000)
    mine = window_manager.submit(make_flow(small_survey, tmp_path / "mine.sgy"))
    qtbot.waitUntil(lambda: dashboard.model.row_of(mine.id) is not None, timeout=1_000)


def test_a_locked_history_skips_beats_and_never_freezes_the_window(
        qtbot, window_manager, history, tmp_path):
    """Another program holds the database locked for 1.5 s (``sqlite3`` with an exclusive
    lock): the GUI thread keeps running, its timer on time, and once the lock is gone a
    job saved by another process shows within a second."""
    dashboard = open_dashboard(qtbot, window_manager)
    lock = _lock_exclusively(history, tmp_path / "history.db")
    release = threading.Timer(1.5, lock.release)
    release.start()
    reader_waited = []
    reader = threading.Thread(target=lambda: reader_waited.append(_seconds(
        history.latest_revision)))
    reader.start()
    try:
        gaps = _gui_thread_gaps(qtbot, seconds=1.5)
    finally:
        release.join()
        reader.join()
    assert reader_waited[0] > 1.0, "the history was not locked for readers"
    assert max(gaps) < 0.5, "the GUI thread waited on the history"
    later = Job(id="1a7e00000001", name="saved after the lock", owner="ws2:99")
    history.save_job(later)
    qtbot.waitUntil(lambda: dashboard.model.row_of(later.id) is not None, timeout=1_000)


class _ExclusiveLock:
    """A ``sqlite3`` connection holding the database in an exclusive transaction."""

    def __init__(self, path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=0.05,
                                          check_same_thread=False)
        self.connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        self.connection.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.close()


def _lock_exclusively(history: JobHistoryStorage, path) -> _ExclusiveLock:
    """An exclusive lock needs every other connection closed: close the store's pooled
    ones (the feed opens a new one at its next beat) until the lock is taken."""
    deadline = time.monotonic() + 5
    while True:
        history.engine.dispose()
        try:
            return _ExclusiveLock(path)
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise


def _seconds(call) -> float:
    began = time.monotonic()
    call()
    return time.monotonic() - began


def _gui_thread_gaps(qtbot, seconds: float) -> list[float]:
    """Seconds between the ticks of a 20 ms GUI-thread timer, for ``seconds``."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    qtbot.wait(int(seconds * 1000))
    timer.stop()
    return [b - a for a, b in zip(ticks, ticks[1:], strict=False)]


def test_the_feed_logs_a_failure_once_and_keeps_its_revision(history, caplog):
    history.save_job(Job(id="f00000000001", name="a"))
    feed = HistoryFeed(history, 0)
    broken = HistoryFeed(_Broken(), 0)
    assert [job.id for job in feed.poll()] == ["f00000000001"] and feed.revision == 1
    assert broken.poll() == [] and broken.poll() == []
    assert [r.levelname for r in caplog.records].count("WARNING") == 1
    assert broken.revision == 0


class _Broken:
    def latest_revision(self) -> int:
        raise OSError("database is locked")

    def changes_since(self, revision: int, limit: int = 500):
        raise OSError("database is locked")
