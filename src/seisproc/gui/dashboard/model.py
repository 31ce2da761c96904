"""The job table: a Qt item model over the jobs of the history, whoever runs them.

The JobManager (this window's jobs) and the history's change feed (every process's) own
job state; this model mirrors it for the view. Rows are job ids, newest inserted first,
and each row shows the latest :class:`~seisproc.jobs.model.Job` announced (records are
immutable, so holding one is holding a snapshot, not a copy to keep in sync); the view
sorts through :class:`JobFilterProxy`. Updates arrive in batches: a batch refreshes
each affected run of rows with one ``dataChanged`` and inserts all new jobs with one
``rowsInserted``, so 1,000 jobs reporting at once cost the view a handful of signals. A
record that only moved a job's progress refreshes the progress columns alone: the view
repaints those cells, and the proxy, sorted by another column, need not sort again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
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

from seisproc.gui.dashboard.cells import (
    HEADERS,
    RIGHT_ALIGNED,
    Column,
    display,
    format_clock,
    sort_key,
    tooltip,
)
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
_TICKING = (S.RUNNING, S.PAUSED, S.CANCELLING)
_COLUMNS = list(Column)
_COLUMN_COUNT = len(_COLUMNS)
_PROGRESS_COLUMNS = (Column.PROGRESS, Column.ELAPSED)
"""First and last of the columns a progress record changes (progress, rate, ETA, duration)."""
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _only_progress(shown: Job, new: Job) -> bool:
    """Whether ``new`` differs from ``shown`` in its progress (and save time) alone."""
    return dataclasses.replace(shown, progress=new.progress, updated_at=new.updated_at) == new


class JobTableModel(QAbstractTableModel):
    """One job a row; the columns and their wording are :mod:`.cells`'.

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
        self.this_process = ""
        """``host:pid`` of this window's JobManager (its jobs say so in the owner's tip)."""

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
        progress_only = {job.id for job in changed if _only_progress(self._jobs[job.id], job)}
        for job in changed:
            self._jobs[job.id] = job
        for ids, (left, right) in (
                ([j.id for j in changed if j.id in progress_only], _PROGRESS_COLUMNS),
                ([j.id for j in changed if j.id not in progress_only], (0, _COLUMN_COUNT - 1))):
            for first, last in _runs(self._rows[job_id] for job_id in ids):
                self.dataChanged.emit(self.index(first, left), self.index(last, right))
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
        return 0 if parent.isValid() else _COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self._jobs[self._ids[index.row()]]
        column = _COLUMNS[index.column()]
        if role == SORT_ROLE:  # first: a sort asks for it n log n times
            return sort_key(job, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return display(job, column)
        if role == JOB_ROLE:
            return job
        if role == PROGRESS_ROLE:
            return job.progress.fraction
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(job, column, self.this_process)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in RIGHT_ALIGNED:
            return _RIGHT
        if column is Column.STATE:
            return _state_style(job.state, role)
        return None


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
    """Shows only jobs in the chosen states whose id, name, owner, input or batch holds the
    filter text; sorts numerically through :data:`SORT_ROLE`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._states: frozenset[JobState] | None = None
        self._text = ""
        self.setSortRole(SORT_ROLE)

    @property
    def states(self) -> frozenset[JobState] | None:
        return self._states

    def set_states(self, states: Iterable[JobState] | None) -> None:
        """Show jobs in ``states`` only; ``None`` shows every job."""
        self.beginFilterChange()
        self._states = None if states is None else frozenset(states)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        """Show jobs whose id, name, owner (``host:pid``), input or batch id contains
        ``text``, in any case; an empty text shows them all."""
        self.beginFilterChange()
        self._text = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _AnyIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, JobTableModel)
        job = model.job_at(source_row)
        if self._states is not None and job.state not in self._states:
            return False
        return not self._text or any(self._text in field.casefold() for field in (
            job.id, job.name, job.owner, job.input, job.batch))
