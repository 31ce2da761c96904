"""The job dashboard: the job table, its actions, its filters and the details pane.

This window's job events come through a :class:`~seisproc.gui.bridge.CoalescingBridge`
(the main window shares one; a dashboard on its own makes its own), so the table is only
touched on the GUI thread, in batches. Jobs of other processes (``seisproc run`` in a
terminal, another window) send no events here: the history's change feed
(:class:`~seisproc.gui.dashboard.feed.HistoryFeed`) brings every job any process saved
since the last poll, off the GUI thread, within a quarter of a second. The table's first
rows are read off the GUI thread too (:attr:`JobDashboard.loaded` says when they show),
so a history of a million jobs never delays the window.

Other processes' jobs get what this window's get: their QC (from the file their process
mirrors it to, :mod:`seisproc.jobs.qc_files`), their end announced
(:attr:`JobDashboard.jobs_ended`, which the main window toasts), pause / resume / cancel.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QSplitter,
    QStyle,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seisproc.gui.bridge import CoalescingBridge
from seisproc.gui.dashboard.actions import (
    JobAction,
    PendingAction,
    allowed,
    apply_action,
    jobs_text,
)
from seisproc.gui.dashboard.batches import BatchTreeView
from seisproc.gui.dashboard.compare import CompareDialog
from seisproc.gui.dashboard.delegates import job_table_view
from seisproc.gui.dashboard.details import EventLog, JobDetailsPane
from seisproc.gui.dashboard.feed import ChangeFeed, HistoryFeed
from seisproc.gui.dashboard.model import JobFilterProxy, JobTableModel
from seisproc.gui.dashboard.qc import JobQcReader
from seisproc.history import JobHistoryStorage
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState, utcnow
from seisproc.jobs.qc_files import QC_FOLDER, QcFiles
from seisproc.paths import seisproc_home

__all__ = ["JobDashboard", "STATE_FILTERS"]

log = logging.getLogger(__name__)

S = JobState
STATE_FILTERS: dict[str, frozenset[JobState] | None] = {
    "All jobs": None,
    "Active": frozenset({S.QUEUED, S.RUNNING, S.PAUSED, S.CANCELLING}),
    "Running": frozenset({S.RUNNING}),
    "Queued": frozenset({S.QUEUED}),
    "Paused or interrupted": frozenset({S.PAUSED, S.INTERRUPTED}),
    "Failed": frozenset({S.FAILED}),
    "Completed": frozenset({S.COMPLETED}),
    "Cancelled": frozenset({S.CANCELLING, S.CANCELLED}),
}
"""The filter menu: label to the states it shows (``None``: every job)."""
_ACTIVE = tuple(s for s in S if s.is_active())
_CANCELLED_BY_ESCAPE = tuple(s for s in _ACTIVE if s is not S.CANCELLING)
_ENDED = (S.COMPLETED, S.FAILED)
_TICK_MS = 1_000


class JobDashboard(QWidget):
    """Every job of the history in a table, newest first, with pause / resume / cancel,
    filters by state and by text (id, name, owner, input) and the details pane.

    Parameters
    ----------
    manager
        The JobManager whose jobs to show and act on.
    feed
        A bridge the manager already posts its events to (the main window's); without
        it the dashboard subscribes a bridge of its own.
    event_log
        The job history's transition log, for the details pane.
    history_limit
        Jobs listed at start besides the active ones: the most recent interrupted ones
        and the most recent of all, this many of each; every job any process saves
        afterwards joins the table.
    qc_files
        Where other processes mirror their jobs' QC; by default the QC folder of
        ``SEISPROC_HOME`` when the manager's store is a shared history.

    Keyboard (with the table focused): ``Space`` pauses or resumes, ``P`` pauses, ``R``
    resumes, ``Delete`` cancels the selected jobs.
    """

    status_message = Signal(str)
    """A line for the status bar: what an action did, or why it was refused."""
    loaded = Signal()
    """The jobs listed at start are in the table (read off the GUI thread)."""
    history_changed = Signal()
    """The history feed brought changes of any process's jobs (analytics re-reads)."""
    jobs_ended = Signal(object)
    """Jobs of other processes the feed shows completed or failed since the window
    opened, as a list of :class:`Job` (this window's own are announced by its events)."""
    gather_requested = Signal(object, int)
    """Show a job's gather (the job, its key value) in the viewer: a comparison's worst."""
    _fetched = Signal(object)
    _acted = Signal(object, str)

    def __init__(self, manager: JobManager, *, feed: CoalescingBridge[JobEvent] | None = None,
                 event_log: EventLog | None = None, history_limit: int = 200,
                 qc_files: QcFiles | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._actions = ThreadPoolExecutor(1, thread_name_prefix="seisproc-dashboard")
        """The first load, then pause, resume and cancel run here, in order, off the GUI
        thread."""
        self._history_limit = history_limit
        self._opened_at = utcnow()
        self._pending: list[PendingAction] = []
        self.is_loaded = False
        self.model = JobTableModel(self)
        self.proxy = JobFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = self._make_view()
        self.batches = BatchTreeView(self.model)
        """The same jobs grouped by batch (:mod:`.batches`), a tab beside the table."""
        self.tabs = QTabWidget()
        self.compare_dialog: CompareDialog | None = None
        if qc_files is None and isinstance(manager.store, ChangeFeed):
            qc_files = QcFiles(seisproc_home() / QC_FOLDER)
        self.details = JobDetailsPane(event_log, qc_source=JobQcReader(manager, qc_files))
        self.state_filter = QComboBox()
        self.state_filter.addItems(list(STATE_FILTERS))
        self.state_filter.setToolTip("Show only jobs in these states")
        self.state_filter.currentTextChanged.connect(
            lambda label: self.proxy.set_states(STATE_FILTERS[label]))
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Filter by name, owner, id, input or batch")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.textChanged.connect(self.proxy.set_text)
        self.text_filter.textChanged.connect(self.batches.model.set_text)
        self.pause_action = self._action("Pause", "P", QStyle.StandardPixmap.SP_MediaPause,
                                         "Pause the selected jobs; they keep their progress")
        self.resume_action = self._action("Resume", "R", QStyle.StandardPixmap.SP_MediaPlay,
                                          "Resume the selected paused or interrupted jobs")
        self.cancel_action = self._action("Cancel", QKeySequence.StandardKey.Delete,
                                          QStyle.StandardPixmap.SP_MediaStop,
                                          "Cancel the selected jobs and remove their "
                                          "partial output")
        self.toggle_action = self._action("Pause or Resume", "Space", None,
                                          "Pause running jobs, resume paused ones")
        self.compare_action = self._action("Compare", "Ctrl+D", None, "Compare the two "
                                           "selected jobs: flows, environments, outputs")
        self._connect_actions()
        self._layout()
        self._feed = feed if feed is not None else self._own_feed(manager)
        self._feed.delivered.connect(self.apply_events)
        self.model.this_process = manager.owner
        self._fetched.connect(self._show_loaded)
        self._acted.connect(self._on_acted)
        revision = self._history_revision()  # before the load: no change falls between
        self._actions.submit(self._fetch)
        self.history_feed = self._follow_history(revision)
        """Every process's job changes (``None`` for a store without a change feed)."""
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    # ------------------------------------------------------------------ construction
    def _make_view(self) -> QTableView:
        view = job_table_view(self.proxy)
        view.customContextMenuRequested.connect(self._context_menu)
        return view

    def _action(self, text: str, key: str | QKeySequence.StandardKey,
                icon: QStyle.StandardPixmap | None, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({shortcut})")
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        self.addAction(action)
        return action

    def _connect_actions(self) -> None:
        self.pause_action.triggered.connect(self.pause_selected)
        self.resume_action.triggered.connect(self.resume_selected)
        self.cancel_action.triggered.connect(self.cancel_selected)
        self.toggle_action.triggered.connect(self.toggle_selected)
        self.compare_action.triggered.connect(self.compare_selected)
        self.batches.selection_changed.connect(self._selection_changed)
        self.tabs.currentChanged.connect(self._selection_changed)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.selectionModel().currentRowChanged.connect(
            lambda *_: self._show_current())

    def _layout(self) -> None:
        bar = QHBoxLayout()
        for action in (self.pause_action, self.resume_action, self.cancel_action,
                       self.compare_action):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.text_filter, stretch=1)
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.state_filter)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.tabs.addTab(self.view, "Jobs")
        self.tabs.addTab(self.batches, "Batches")
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(splitter, stretch=1)

    def _own_feed(self, manager: JobManager) -> CoalescingBridge[JobEvent]:
        feed: CoalescingBridge[JobEvent] = CoalescingBridge(interval_ms=100, parent=self)
        unsubscribe = manager.subscribe(feed)
        self.destroyed.connect(lambda *_: unsubscribe())
        return feed

    def _history_revision(self) -> int | None:
        store = self.manager.store
        return store.latest_revision() if isinstance(store, ChangeFeed) else None

    def _follow_history(self, revision: int | None) -> HistoryFeed | None:
        store = self.manager.store
        if revision is None or not isinstance(store, ChangeFeed):
            return None
        feed = HistoryFeed(store, revision)
        feed.changed.connect(self.apply_history)
        self.destroyed.connect(lambda *_: feed.stop())
        feed.start()
        return feed

    def _fetch(self) -> None:
        """Read the jobs listed at start (on the dashboard's thread): every active one,
        the most recent interrupted ones and the most recent others, ``history_limit``
        of each: a history of a million jobs (ten thousand of them interrupted) lists
        a few hundred, in a second."""
        try:
            listed = {job.id: job for job in self.manager.list(list(_ACTIVE))}
            for job in self._recent_interrupted() + self.manager.get_job_history(
                    self._history_limit):
                listed.setdefault(job.id, job)
            jobs = sorted(listed.values(), key=lambda job: job.created_at)
        except Exception as exc:  # the feed brings later changes; say why these are missing
            log.warning("the job history cannot be listed (%s: %s)", type(exc).__name__, exc)
            self._acted.emit(None, f"The job history cannot be listed: {exc}")
            jobs = []
        with contextlib.suppress(RuntimeError):  # the dashboard was closed meanwhile
            self._fetched.emit(jobs)

    def _recent_interrupted(self) -> list[Job]:
        store = self.manager.store
        if isinstance(store, JobHistoryStorage):  # one indexed page, however many there are
            return store.query(states=[S.INTERRUPTED], limit=self._history_limit)
        return self.manager.list([S.INTERRUPTED])[: self._history_limit]

    def _show_loaded(self, jobs: list[Job]) -> None:
        self.model.apply_jobs(jobs)
        self.is_loaded = True
        self._update_actions()
        self.loaded.emit()

    # ------------------------------------------------------------------ updates
    def apply_events(self, events: Sequence[JobEvent]) -> None:
        """A batch of job events (the bridge's ``delivered``)."""
        self.model.apply_events(events)
        self._show_current()
        shown = self.details.job
        if shown is not None and any(e.kind is JobEventKind.UNIT_COMPLETED
                                     and e.job.id == shown.id for e in events):
            self.details.refresh_qc()
        self._update_actions()
        self._settle_pending()

    def apply_history(self, jobs: Sequence[Job]) -> None:
        """Jobs any process changed since the last poll (the history feed's ``changed``)."""
        before = {job.id: self._state_shown(job.id) for job in jobs}
        self.model.apply_jobs(jobs)
        self._show_current()
        shown = self.details.job
        if shown is not None and shown.owner != self.manager.owner and any(
                job.id == shown.id for job in jobs):
            self.details.refresh_qc()  # its process rewrote the QC file as units landed
        self._update_actions()
        self._settle_pending()
        ended = [job for job in jobs if self._newly_ended(job, before[job.id])]
        if ended:
            self.jobs_ended.emit(ended)
        self.history_changed.emit()

    def _state_shown(self, job_id: str) -> JobState | None:
        row = self.model.row_of(job_id)
        return None if row is None else self.model.job_at(row).state

    def _newly_ended(self, job: Job, before: JobState | None) -> bool:
        """Another process's job that the table now shows ended, and showed unfinished
        (or did not list, when it ended after the window opened)."""
        if job.owner == self.manager.owner or job.state not in _ENDED \
                or self._state_shown(job.id) is not job.state:
            return False
        if before is None:
            return job.finished_at is not None and job.finished_at >= self._opened_at
        return not before.is_terminal()

    def _tick(self) -> None:
        self.model.tick()

    # ------------------------------------------------------------------ selection
    def selected_jobs(self) -> list[Job]:
        """The selected jobs at their latest known state, in table order (in the batch
        tree's order when it is shown; a batch row gives all its jobs)."""
        if self.tabs.currentWidget() is self.batches:
            return self.batches.selected_jobs()
        rows = sorted(self.proxy.mapToSource(index).row()
                      for index in self.view.selectionModel().selectedRows())
        return [self.model.job_at(row) for row in rows]

    def select_job(self, job_id: str) -> bool:
        """Select and show the job's row (clearing the filter if it hides it)."""
        row = self.model.row_of(job_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            self.state_filter.setCurrentText("All jobs")
            index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.view.selectRow(index.row())
        self.view.scrollTo(index)
        return True

    def _current_job(self) -> Job | None:
        selection = self.view.selectionModel()
        current = selection.currentIndex()
        if self.tabs.currentWidget() is not self.batches and current.isValid() \
                and selection.isRowSelected(current.row()):
            return self.model.job_at(self.proxy.mapToSource(current).row())
        jobs = self.selected_jobs()
        return jobs[0] if jobs else None

    def _selection_changed(self, *_: object) -> None:
        self._show_current()
        self._update_actions()

    def _show_current(self) -> None:
        self.details.show_job(self._current_job())

    def _update_actions(self) -> None:
        jobs = self.selected_jobs()
        for action, kind in ((self.pause_action, JobAction.PAUSE),
                             (self.resume_action, JobAction.RESUME),
                             (self.cancel_action, JobAction.CANCEL)):
            action.setEnabled(any(allowed(kind, job) for job in jobs))
        self.toggle_action.setEnabled(self.pause_action.isEnabled()
                                      or self.resume_action.isEnabled())
        self.compare_action.setEnabled(len(jobs) == 2)

    # ------------------------------------------------------------------ actions
    def pause_selected(self) -> None:
        self._apply(JobAction.PAUSE, self.selected_jobs())

    def resume_selected(self) -> None:
        self._apply(JobAction.RESUME, self.selected_jobs())

    def cancel_selected(self) -> None:
        jobs = [job for job in self.selected_jobs() if allowed(JobAction.CANCEL, job)]
        if jobs and self.confirm_cancel(jobs):
            self._apply(JobAction.CANCEL, jobs)

    def active_jobs(self) -> list[Job]:
        """Every job, of any process, that is queued, waits, runs or is paused: what ``Escape``
        cancels and the status bar counts (the history's list, each at the latest record
        this table holds)."""
        listed = self.manager.list(list(_CANCELLED_BY_ESCAPE))
        newest = [self._newest(job) for job in listed]
        return [job for job in newest if job.state in _CANCELLED_BY_ESCAPE]

    def _newest(self, job: Job) -> Job:
        row = self.model.row_of(job.id)
        shown = None if row is None else self.model.job_at(row)
        return shown if shown is not None and shown.updated_at > job.updated_at else job

    def cancel_jobs(self, jobs: Sequence[Job]) -> None:
        """Cancel ``jobs`` without asking (the caller asked): this window's at once, other
        processes' through a request to their process."""
        self._apply(JobAction.CANCEL, jobs)

    def toggle_selected(self) -> None:
        """Pause the selected jobs that run or wait, resume the paused ones."""
        jobs = self.selected_jobs()  # states before either step: no job is paused and resumed
        self._apply(JobAction.PAUSE, jobs)
        self._apply(JobAction.RESUME, jobs)

    def compare_selected(self) -> CompareDialog | None:
        """Compare the two selected jobs in a dialog (the outputs are read off the GUI
        thread), the earlier submitted as A; its "show" button asks
        :attr:`gather_requested` for the worst gather."""
        jobs = sorted(self.selected_jobs(), key=lambda job: job.created_at)
        if len(jobs) != 2:
            return None
        self.compare_dialog = CompareDialog(jobs[0], jobs[1], self)
        self.compare_dialog.open_gather.connect(self.gather_requested)
        self.compare_dialog.show()
        return self.compare_dialog

    def confirm_cancel(self, jobs: Sequence[Job]) -> bool:
        """Ask before cancelling (partial output is deleted); tests replace this."""
        what = f"job “{jobs[0].name}”" if len(jobs) == 1 else f"{len(jobs)} jobs"
        answer = QMessageBox.question(
            self, "Cancel jobs", f"Cancel {what}? Partial output is removed and a cancelled "
            "job cannot be resumed.", QMessageBox.StandardButton.Yes
            | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _apply(self, action: JobAction, jobs: Sequence[Job]) -> None:
        """Act on a thread of the dashboard's own: a job of another process takes a
        request written to the history, an interrupted one is taken over there, and the
        window must not freeze while another program holds the database locked. The
        outcome comes back as :attr:`status_message` (queued to the GUI thread)."""
        targets = [job for job in jobs if allowed(action, job)]
        if targets:
            self._actions.submit(self._act, action, targets)

    def _act(self, action: JobAction, targets: list[Job]) -> None:
        try:
            problems = apply_action(self.manager, action, targets)
        except Exception as exc:  # the history failed: say so, never lose the thread
            problems = [f"{action.value} failed: {exc}"]
        done = len(targets) - len(problems)
        verb = {JobAction.PAUSE: "Pausing", JobAction.RESUME: "Resuming",
                JobAction.CANCEL: "Cancelling"}[action]
        message = f"{verb} {jobs_text(done)}" if done else ""
        if problems:
            message = "; ".join(filter(None, [message, *problems]))
        pending = PendingAction(action, tuple(job.id for job in targets)) if done else None
        with contextlib.suppress(RuntimeError):  # the dashboard was closed meanwhile
            self._acted.emit(pending, message)

    def _on_acted(self, pending: PendingAction | None, message: str) -> None:
        if pending is not None:
            self._pending.append(pending)
        self.status_message.emit(message)
        self._settle_pending()

    def _settle_pending(self) -> None:
        """Replace "Cancelling 2 jobs" by what happened once the table shows it."""
        if not self._pending:
            return
        jobs = {job_id: self.model.job_at(row) for pending in self._pending
                for job_id in pending.job_ids if (row := self.model.row_of(job_id)) is not None}
        for pending in list(self._pending):
            outcome = pending.outcome(jobs)
            if outcome is not None:
                self._pending.remove(pending)
                self.status_message.emit(outcome)

    def _context_menu(self, at: QPoint) -> None:
        if not self.view.indexAt(at).isValid():
            return
        menu = QMenu(self)
        menu.addActions([self.pause_action, self.resume_action, self.cancel_action,
                         self.compare_action])
        copy = menu.addAction("Copy Job Id")
        copy.triggered.connect(self._copy_ids)
        menu.popup(self.view.viewport().mapToGlobal(at))

    def _copy_ids(self) -> None:
        QGuiApplication.clipboard().setText(" ".join(j.id for j in self.selected_jobs()))

