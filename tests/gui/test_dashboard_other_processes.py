"""Other processes' jobs get what this window's get: their end announced (for a toast),
their QC (from the file their process writes), ``Escape`` and the status bar, and a
status line that says when an action is done. Jobs here are saved by a second store on
the same SQLite file, as another process saves them; tests/gui/test_dashboard_terminal_jobs
.py does the same with real ``seisproc run`` processes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_helpers import make_flow, open_dashboard, select, shown

from seisproc.gui.dashboard.actions import JobAction, PendingAction
from seisproc.history import JobHistoryStorage
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import ThreadExecutor
from seisproc.jobs.model import Job, JobProgress, JobState
from seisproc.jobs.qc import GatherQc, JobQc
from seisproc.jobs.qc_files import QcFiles
from seisproc.jobs.transitions import transition

S = JobState


@pytest.fixture
def history(tmp_path: Path) -> Iterator[JobHistoryStorage]:
    """The history as the other process writes it (its own connection)."""
    store = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    yield store
    store.close()


@pytest.fixture
def window_manager(tmp_path: Path) -> Iterator[JobManager]:
    """This window's manager on the same file (its own jobs stay queued)."""
    store = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    manager = JobManager(store, lambda: ThreadExecutor(workers=1),
                         CheckpointStore(tmp_path / "checkpoints"), max_running=0)
    yield manager
    manager.close(active="cancel")
    store.close()


def terminal_job(n: int, state: JobState = S.RUNNING) -> Job:
    job = Job(id=f"7e4a{n:08d}", name=f"terminal {n}", owner="ws2:4711",
              progress=JobProgress(1, 10, 100, 1_000, 250.0))
    return job if state is S.QUEUED else transition(job, state)


def ended(job: Job, state: JobState) -> Job:
    return transition(dataclasses.replace(job, progress=JobProgress(10, 10, 1_000, 1_000)),
                      state, message="disk full" if state is S.FAILED else "")


def test_another_process_s_jobs_that_end_are_announced_once_each(
        qtbot, window_manager: JobManager, history: JobHistoryStorage) -> None:
    old = ended(terminal_job(0), S.COMPLETED)
    history.save_job(old)  # ended before the window opened: no news
    dashboard = open_dashboard(qtbot, window_manager)
    announced: list[list[str]] = []
    dashboard.jobs_ended.connect(lambda jobs: announced.append([j.id for j in jobs]))
    done, failed, quick = terminal_job(1), terminal_job(2), terminal_job(3, S.QUEUED)
    for job in (done, failed):
        history.save_job(job)
    qtbot.waitUntil(lambda: dashboard.model.row_of(failed.id) is not None, timeout=2_000)
    history.save_job(ended(done, S.COMPLETED))
    history.save_job(ended(failed, S.FAILED))
    history.save_job(transition(transition(quick, S.RUNNING), S.COMPLETED))  # between polls
    qtbot.waitUntil(lambda: sum(len(ids) for ids in announced) == 3, timeout=2_000)
    history.save_job(dataclasses.replace(history.get_job(done.id), message="saved again"))
    qtbot.waitUntil(lambda: shown(dashboard, done.id).message == "saved again",
                    timeout=2_000)
    assert sorted(sum(announced, [])) == sorted([done.id, failed.id, quick.id])


def test_this_window_s_own_jobs_are_not_announced_by_the_feed(
        qtbot, window_manager: JobManager, history: JobHistoryStorage) -> None:
    dashboard = open_dashboard(qtbot, window_manager)
    announced: list[object] = []
    dashboard.jobs_ended.connect(announced.append)
    mine = dataclasses.replace(terminal_job(4), owner=window_manager.owner)
    history.save_job(mine)
    history.save_job(ended(mine, S.COMPLETED))
    qtbot.waitUntil(lambda: dashboard.model.row_of(mine.id) is not None
                    and shown(dashboard, mine.id).state is S.COMPLETED, timeout=2_000)
    assert announced == []  # its own events toast it (MainWindow._on_job_events)


def test_the_qc_of_another_process_s_job_comes_from_the_file_its_process_writes(
        qtbot, window_manager: JobManager, history: JobHistoryStorage, tmp_path: Path) -> None:
    files = QcFiles(tmp_path / "qc")
    dashboard = open_dashboard(qtbot, window_manager, qc_files=files)
    job = terminal_job(5)
    history.save_job(job)
    qtbot.waitUntil(lambda: dashboard.model.row_of(job.id) is not None, timeout=2_000)
    assert dashboard.select_job(job.id)
    seen: list[int] = []
    draw = dashboard.details.qc_strip.show_qc
    dashboard.details.qc_strip.show_qc = lambda qc: (seen.append(qc.gathers_seen),
                                                      draw(qc))  # type: ignore[method-assign]
    files.write(job.id, JobQc().extend([GatherQc(k, 48, 1.0, 0, 0, 30.0) for k in range(3)]))
    history.save_job(dataclasses.replace(job, progress=JobProgress(3, 10, 300, 1_000)))
    qtbot.waitUntil(lambda: seen[-1:] == [3], timeout=2_000)
    assert dashboard.details.qc_strip.gathers_label.text().startswith("3")


def test_escape_s_list_holds_every_process_s_active_jobs_at_their_latest_record(
        qtbot, window_manager: JobManager, history: JobHistoryStorage) -> None:
    dashboard = open_dashboard(qtbot, window_manager)
    running, paused, done = terminal_job(6), terminal_job(7, S.PAUSED), terminal_job(8)
    for job in (running, paused, done):
        history.save_job(job)
    history.save_job(ended(done, S.COMPLETED))
    qtbot.waitUntil(lambda: dashboard.model.row_of(done.id) is not None
                    and shown(dashboard, done.id).state is S.COMPLETED, timeout=2_000)
    assert sorted(j.id for j in dashboard.active_jobs()) == sorted([running.id, paused.id])


@pytest.mark.parametrize(("action", "states", "said"), [
    (JobAction.CANCEL, [S.CANCELLING, S.CANCELLED], "2 jobs cancelled"),
    (JobAction.PAUSE, [S.PAUSED, S.PAUSED], "2 jobs paused"),
    (JobAction.RESUME, [S.RUNNING, S.QUEUED], "2 jobs resumed"),
    (JobAction.CANCEL, [S.CANCELLED, S.COMPLETED],
     "1 job cancelled; 1 job ended before being cancelled"),
])
def test_an_action_is_said_done_once_every_job_got_there(
        action: JobAction, states: list[JobState], said: str) -> None:
    pending = PendingAction(action, ("a", "b"))
    before = S.PAUSED if action is JobAction.RESUME else S.RUNNING
    base = Job(id="a", name="x", state=before)
    jobs = {"a": dataclasses.replace(base, state=states[0]),
            "b": dataclasses.replace(base, id="b")}
    assert pending.outcome(jobs) is None  # b is not there yet
    assert pending.outcome({"a": jobs["a"]}) is None  # b not in the table yet
    jobs["b"] = dataclasses.replace(jobs["b"], state=states[1])
    outcome = pending.outcome(jobs)
    if states[0] is S.CANCELLING:
        assert outcome is None
        jobs["a"] = dataclasses.replace(jobs["a"], state=S.CANCELLED)
        outcome = pending.outcome(jobs)
    assert outcome == said


def test_cancelling_says_so_and_then_says_it_is_done(
        qtbot, window_manager: JobManager, history: JobHistoryStorage,
        small_survey: Path, tmp_path: Path) -> None:
    """Issue 16's "Cancelling 1 job" that stayed in the status bar: once the table shows
    the job CANCELLED the line says so."""
    dashboard = open_dashboard(qtbot, window_manager)
    messages: list[str] = []
    dashboard.status_message.connect(messages.append)
    job = window_manager.submit(make_flow(small_survey, tmp_path / "mine.sgy"))
    qtbot.waitUntil(lambda: dashboard.model.row_of(job.id) is not None, timeout=2_000)
    select(dashboard, job.id)
    dashboard.confirm_cancel = lambda jobs: True  # type: ignore[method-assign]
    dashboard.cancel_selected()
    qtbot.waitUntil(lambda: shown(dashboard, job.id).state is S.CANCELLED, timeout=5_000)
    qtbot.waitUntil(lambda: messages[-1:] == ["1 job cancelled"], timeout=2_000)
    assert messages == ["Cancelling 1 job", "1 job cancelled"]
