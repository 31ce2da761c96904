"""The job table: a Qt item model over the jobs the `JobManager` announces.

The manager owns job state; this model mirrors it for the view. Rows are job ids in
display order (newest first) and each row shows the latest :class:`~seisproc.jobs.model.Job`
the manager announced (records are immutable, so holding one is holding a snapshot, not
a copy to keep in sync). Updates arrive in batches from the GUI bridge: a batch refreshes
each affected run of rows with one ``dataChanged`` and inserts all new jobs with one
``rowsInserted``, so 1,000 jobs reporting at once cost the view a handful of signals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from seisproc.analytics.format import human_clock
from seisproc.gui.palette import state_color
from seisproc.jobs.events import JobEvent
from seisproc.jobs.model import Job, JobState

__all__ = ["Column", "JobTableModel", "JobFilterProxy", "JOB_ROLE", "PROGRESS_ROLE",
           "SORT_ROLE", "format_clock", "state_text_color"]

JOB_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's :class:`Job`."""
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2
"""Progress as a 0-1 fraction (the progress bar delegate paints it)."""
SORT_ROLE = Qt.ItemDataRole.UserRole + 3
"""A value that sorts the column numerically (rates, durations) rather than as text."""

_AnyIndex = QModelIndex | QPersistentModelIndex
S = JobState


class Column(IntEnum):
    NAME = 0
    TYPE = 1
    STATE = 2
    PROGRESS = 3
    RATE = 4
    ETA = 5
    ELAPSED = 6


_HEADERS = {Column.NAME: "Name", Column.TYPE: "Type", Column.STATE: "State",
            Column.PROGRESS: "Progress", Column.RATE: "Traces/s", Column.ETA: "ETA",
            Column.ELAPSED: "Elapsed"}
_STATE_ORDER = {state: n for n, state in enumerate(
    (S.RUNNING, S.CANCELLING, S.PAUSED, S.QUEUED, S.INTERRUPTED, S.FAILED, S.CANCELLED,
     S.COMPLETED))}
_TICKING = (S.RUNNING, S.PAUSED, S.CANCELLING)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def format_clock(seconds: float | None) -> str:
    """``"0:42"``, ``"12:05"``, ``"1:02:03"``; empty when unknown (a table cell left blank).

    >>> format_clock(42.4), format_clock(3723), format_clock(None)
    ('0:42', '1:02:03', '')
    """
    return human_clock(seconds, missing="")


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class JobTableModel(QAbstractTableModel):
    """Seven columns (name, type, state, progress, traces/s, ETA, elapsed), one job a row.

    Examples
    --------
    >>> model = JobTableModel()                                   # doctest: +SKIP
    >>> model.apply_jobs(manager.list())                          # doctest: +SKIP
    >>> bridge.delivered.connect(model.apply_events)              # doctest: +SKIP
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids: list[str] = []
        self._jobs: dict[str, Job] = {}
        self._rows: dict[str, int] = {}

    # ------------------------------------------------------------------ the collection
    def jobs(self) -> list[Job]:
        """Every job shown, in row order."""
        return [self._jobs[job_id] for job_id in self._ids]

    def job_at(self, row: int) -> Job:
        return self._jobs[self._ids[row]]

    def row_of(self, job_id: str) -> int | None:
        return self._rows.get(job_id)

    def apply_events(self, events: Sequence[JobEvent]) -> None:
        """A batch from the bridge: the latest record of each job it mentions."""
        self.apply_jobs(event.job for event in events)

    def apply_jobs(self, jobs: Iterable[Job]) -> None:
        """Show these job records: refresh known rows, insert new jobs at the top.

        A record older than the one shown (a state change it predates) is ignored, so a
        late delivery never turns a finished job back into a running one.
        """
        latest: dict[str, Job] = {}
        for job in jobs:
            latest[job.id] = job
        changed = [job for job in latest.values() if job.id in self._rows
                   and job.updated_at >= self._jobs[job.id].updated_at]
        new = [job for job in latest.values() if job.id not in self._rows]
        for job in changed:
            self._jobs[job.id] = job
        for first, last in _runs(self._rows[job.id] for job in changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(Column) - 1))
        if new:
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._ids[0:0] = [job.id for job in reversed(new)]
            self._jobs.update((job.id, job) for job in new)
            self._rows = {job_id: row for row, job_id in enumerate(self._ids)}
            self.endInsertRows()

    def tick(self) -> None:
        """Refresh the elapsed time of started, unfinished jobs (the view's 1 s timer)."""
        rows = [row for row, job_id in enumerate(self._ids)
                if self._jobs[job_id].state in _TICKING]
        for first, last in _runs(rows):
            self.dataChanged.emit(self.index(first, Column.ELAPSED),
                                  self.index(last, Column.ELAPSED),
                                  [Qt.ItemDataRole.DisplayRole])

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[Column(section)]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self._jobs[self._ids[index.row()]]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(job, column)
        if role == JOB_ROLE:
            return job
        if role == PROGRESS_ROLE:
            return job.progress.fraction
        if role == SORT_ROLE:
            return _sort_key(job, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(job, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= Column.RATE:
            return _RIGHT
        if column is Column.STATE:
            return _state_style(job.state, role)
        return None


def _display(job: Job, column: Column) -> str:
    progress = job.progress
    running = job.state is S.RUNNING
    if column is Column.NAME:
        return job.name
    if column is Column.TYPE:
        return job.type.value.capitalize()
    if column is Column.STATE:
        return job.state.value.capitalize()
    if column is Column.PROGRESS:
        return f"{100 * progress.fraction:.0f} %"
    if column is Column.RATE:
        return f"{progress.traces_per_s:,.0f}" if running and progress.traces_per_s else ""
    if column is Column.ETA:
        return format_clock(progress.eta_s) if running else ""
    return format_clock(job.duration_s)


def _sort_key(job: Job, column: Column) -> Any:
    progress = job.progress
    keys: dict[Column, Any] = {
        Column.NAME: job.name.casefold(), Column.TYPE: job.type.value,
        Column.STATE: _STATE_ORDER[job.state], Column.PROGRESS: progress.fraction,
        Column.RATE: progress.traces_per_s if job.state is S.RUNNING else -1.0,
        Column.ETA: progress.eta_s if progress.eta_s is not None else float("inf"),
        Column.ELAPSED: job.duration_s or 0.0,
    }
    return keys[column]


def _tooltip(job: Job, column: Column) -> str:
    if column is Column.STATE:
        return job.message or job.state.value
    if column is Column.PROGRESS:
        p = job.progress
        return f"{p.traces_done:,} of {p.traces_total:,} traces, {p.units_done} of " \
               f"{p.units_total} units"
    return f"{job.name} (job {job.id})\n{job.input}\n→ {job.output}"


def state_text_color(state: JobState) -> QColor:
    """The state's colour (:mod:`seisproc.gui.palette`), darkened to read as text."""
    return state_color(state).darker(135)


def _state_style(state: JobState, role: int) -> Any:
    if role == Qt.ItemDataRole.DecorationRole:
        return state_color(state)
    if role == Qt.ItemDataRole.ForegroundRole:
        return state_text_color(state)
    if role == Qt.ItemDataRole.FontRole:
        font = QFont()
        font.setBold(True)
        return font
    return None


class JobFilterProxy(QSortFilterProxyModel):
    """Shows only jobs in the chosen states; sorts numerically through :data:`SORT_ROLE`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._states: frozenset[JobState] | None = None
        self.setSortRole(SORT_ROLE)

    @property
    def states(self) -> frozenset[JobState] | None:
        return self._states

    def set_states(self, states: Iterable[JobState] | None) -> None:
        """Show jobs in ``states`` only; ``None`` shows every job."""
        self.beginFilterChange()
        self._states = None if states is None else frozenset(states)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _AnyIndex) -> bool:
        if self._states is None:
            return True
        model = self.sourceModel()
        assert isinstance(model, JobTableModel)
        return model.job_at(source_row).state in self._states
