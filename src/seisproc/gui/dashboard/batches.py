"""Batches in the dashboard: one collapsible row per batch, its jobs as child rows.

``seisproc run --each`` (and a pipeline) submits jobs that share :attr:`Job.batch`. The
tree here adapts the dashboard's :class:`~.model.JobTableModel` (it owns no job: every
record it shows is the table model's latest, so the change feed path stays the table's),
and follows its inserts and refreshes with inserts and refreshes of its own, so a batch
row's combined progress moves as its jobs report. The combined figures are pure
functions (:func:`batch_progress`), tested without a widget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QVBoxLayout, QWidget

from seisproc.gui.dashboard.actions import jobs_text
from seisproc.gui.dashboard.cells import format_clock, state_tooltip, traces_per_s
from seisproc.gui.dashboard.delegates import ProgressBarDelegate
from seisproc.gui.dashboard.model import JOB_ROLE, PROGRESS_ROLE, JobTableModel
from seisproc.jobs.model import Job, JobState

__all__ = [
    "BATCH_ROLE",
    "BatchColumn",
    "BatchProgress",
    "BatchTreeModel",
    "BatchTreeView",
    "batch_progress",
    "batch_states_text",
]

BATCH_ROLE = Qt.ItemDataRole.UserRole + 10
"""The batch id of a batch row (child rows answer their job's batch too)."""
S = JobState
_AnyIndex = QModelIndex | QPersistentModelIndex


class BatchColumn(IntEnum):
    NAME = 0
    STATE = 1
    PROGRESS = 2
    ETA = 3
    INPUT = 4


_HEADERS = ("Batch / job", "State", "Progress", "ETA", "Input")


@dataclass(frozen=True)
class BatchProgress:
    """A batch's jobs taken together."""

    traces_done: int
    traces_total: int
    """Traces of every job; a job that has not counted its input yet is taken as the
    mean of those that have (so a batch is not 100 % while half its jobs wait)."""
    eta_s: float | None
    """Seconds left at the running jobs' combined rate; ``None`` when none runs."""

    @property
    def fraction(self) -> float:
        return self.traces_done / self.traces_total if self.traces_total else 0.0


def batch_progress(jobs: Sequence[Job]) -> BatchProgress:
    """Traces done over traces in all of ``jobs``, and the time left at their rate.

    Jobs that ended without finishing (failed, cancelled) count as done where they
    stopped: nothing more of them will run, so they add no time left.

    >>> batch_progress([]).fraction
    0.0
    """
    known = [job.progress.traces_total for job in jobs if job.progress.traces_total]
    mean_total = sum(known) / len(known) if known else 0.0
    done = total = 0.0
    left = 0.0
    for job in jobs:
        job_total = job.progress.traces_total or mean_total
        job_done = job.progress.traces_done
        if job.state in (S.FAILED, S.CANCELLED):
            job_total = job_done  # it will not run further
        done += job_done
        total += job_total
        left += max(job_total - job_done, 0.0)
    rate = sum(traces_per_s(job) or 0.0 for job in jobs if job.state is S.RUNNING)
    eta = left / rate if rate > 0 and left > 0 else (0.0 if total and not left else None)
    return BatchProgress(int(done), int(total), eta)


def batch_states_text(jobs: Sequence[Job]) -> str:
    """``"8 completed · 3 running · 1 failed"``: the batch's jobs counted by state, in
    the table's state order."""
    counts: dict[JobState, int] = {}
    for job in jobs:
        counts[job.state] = counts.get(job.state, 0) + 1
    order = (
        S.RUNNING,
        S.CANCELLING,
        S.PAUSED,
        S.QUEUED,
        S.WAITING,
        S.INTERRUPTED,
        S.FAILED,
        S.CANCELLED,
        S.COMPLETED,
    )
    return " · ".join(f"{counts[s]} {s.value.lower()}" for s in order if s in counts)


class BatchTreeModel(QAbstractItemModel):
    """Batches as top-level rows (newest first), their jobs (in submission order) as
    children; jobs submitted alone are not shown here (the table shows every job).

    A child index's internal id is its batch's serial number (stable while rows move);
    a top-level index's is 0.
    """

    def __init__(self, jobs: JobTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = jobs
        self._order: list[str] = []
        """Batch ids shown, newest first."""
        self._children: dict[str, list[str]] = {}
        self._serial: dict[str, int] = {}
        self._by_serial: dict[int, str] = {}
        self._text = ""
        jobs.rowsInserted.connect(self._source_inserted)
        jobs.dataChanged.connect(self._source_changed)
        jobs.modelReset.connect(self._rebuild)
        self._rebuild()

    # ------------------------------------------------------------------ the collection
    def batches(self) -> list[str]:
        """Batch ids shown, in row order."""
        return list(self._order)

    def jobs_of(self, batch: str) -> list[Job]:
        """The batch's jobs at their latest record, in submission order."""
        return [self._job(job_id) for job_id in self._children.get(batch, [])]

    def job_at(self, index: _AnyIndex) -> Job | None:
        """The job of a child row; ``None`` for a batch row."""
        batch = self._by_serial.get(index.internalId()) if index.isValid() else None
        return None if batch is None else self._job(self._children[batch][index.row()])

    def batch_at(self, index: _AnyIndex) -> str:
        if not index.isValid():
            return ""
        batch = self._by_serial.get(index.internalId())
        return batch if batch is not None else self._order[index.row()]

    def batch_index(self, batch: str) -> QModelIndex:
        return self.index(self._order.index(batch), 0) if batch in self._order else QModelIndex()

    def set_text(self, text: str) -> None:
        """Show the batches whose id, or one of whose jobs' id, name or input, holds
        ``text`` (any case): a batch id typed in the dashboard's filter box finds it."""
        self._text = text.strip().casefold()
        self._rebuild()

    def _job(self, job_id: str) -> Job:
        row = self._source.row_of(job_id)
        assert row is not None, f"job {job_id} left the table"
        return self._source.job_at(row)

    def _matches(self, batch: str) -> bool:
        if not self._text or self._text in batch.casefold():
            return True
        return any(
            self._text in field.casefold()
            for job in self.jobs_of(batch)
            for field in (job.id, job.name, job.input)
        )

    def _rebuild(self) -> None:
        self.beginResetModel()
        self._children = {}
        for job in sorted(self._source.jobs(), key=lambda job: job.created_at):
            if job.batch:
                self._children.setdefault(job.batch, []).append(job.id)
                self._number(job.batch)
        first_seen = sorted(
            self._children, key=lambda b: self._job(self._children[b][0]).created_at, reverse=True
        )
        self._order = [batch for batch in first_seen if self._matches(batch)]
        self.endResetModel()

    def _number(self, batch: str) -> int:
        if batch not in self._serial:
            self._serial[batch] = len(self._serial) + 1
            self._by_serial[self._serial[batch]] = batch
        return self._serial[batch]

    def _source_inserted(self, parent: _AnyIndex, first: int, last: int) -> None:
        jobs = sorted(
            (self._source.job_at(row) for row in range(first, last + 1)),
            key=lambda job: job.created_at,
        )
        batched = [job for job in jobs if job.batch]
        if not batched:
            return
        if self._text:  # whether a batch matches may change with its new jobs
            self._rebuild()
            return
        for job in batched:
            children = self._children.get(job.batch)
            if children is None:
                self._number(job.batch)
                self.beginInsertRows(QModelIndex(), 0, 0)
                self._children[job.batch] = [job.id]
                self._order.insert(0, job.batch)
                self.endInsertRows()
                continue
            self.beginInsertRows(self.batch_index(job.batch), len(children), len(children))
            children.append(job.id)
            self.endInsertRows()
            self._refresh_batch(job.batch)

    def _source_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: Sequence[int] = ()
    ) -> None:
        touched: dict[str, list[int]] = {}
        for row in range(top_left.row(), bottom_right.row() + 1):
            job = self._source.job_at(row)
            if job.batch in self._order:
                touched.setdefault(job.batch, []).append(self._children[job.batch].index(job.id))
        last = len(BatchColumn) - 1
        for batch, rows in touched.items():
            parent = self.batch_index(batch)
            self.dataChanged.emit(
                self.index(min(rows), 0, parent), self.index(max(rows), last, parent)
            )
            self._refresh_batch(batch)

    def _refresh_batch(self, batch: str) -> None:
        row = self._order.index(batch)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(BatchColumn) - 1))

    # ------------------------------------------------------------------ Qt model
    def index(self, row: int, column: int, parent: _AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, self._serial[self._order[parent.row()]])

    def parent(self, index: _AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        batch = self._by_serial[index.internalId()]
        return self.createIndex(self._order.index(batch), 0, 0)

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._order)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._children[self._order[parent.row()]])
        return 0

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(BatchColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self.job_at(index)
        if role == BATCH_ROLE:
            return self.batch_at(index)
        if job is None:
            return self._batch_data(self._order[index.row()], BatchColumn(index.column()), role)
        return _job_data(job, BatchColumn(index.column()), role)

    def _batch_data(self, batch: str, column: BatchColumn, role: int) -> Any:
        jobs = self.jobs_of(batch)
        if role == PROGRESS_ROLE:
            return batch_progress(jobs).fraction
        if role == Qt.ItemDataRole.DisplayRole:
            if column is BatchColumn.NAME:
                return f"batch {batch} · {jobs[0].name} · {jobs_text(len(jobs))}"
            if column is BatchColumn.STATE:
                return batch_states_text(jobs)
            progress = batch_progress(jobs)
            if column is BatchColumn.PROGRESS:
                return f"{100 * progress.fraction:.0f} %"
            if column is BatchColumn.ETA:
                return format_clock(progress.eta_s)
            return ""
        if role == Qt.ItemDataRole.ToolTipRole:
            progress = batch_progress(jobs)
            failed = [
                f"{job.id} ({job.name}): {job.message or 'failed'}"
                for job in jobs
                if job.state is S.FAILED
            ]
            return "\n".join(
                [
                    f"batch {batch}: {batch_states_text(jobs)}",
                    f"{progress.traces_done:,} of {progress.traces_total:,} traces",
                    *failed,
                ]
            )
        return None


def _job_data(job: Job, column: BatchColumn, role: int) -> Any:
    if role == JOB_ROLE:
        return job
    if role == PROGRESS_ROLE:
        return job.progress.fraction
    if role == Qt.ItemDataRole.DisplayRole:
        return {
            BatchColumn.NAME: f"{job.id}  {job.name}",
            BatchColumn.STATE: job.state.value.capitalize(),
            BatchColumn.PROGRESS: f"{100 * job.progress.fraction:.0f} %",
            BatchColumn.ETA: format_clock(job.progress.eta_s) if job.state is S.RUNNING else "",
            BatchColumn.INPUT: job.input.rsplit("/", 1)[-1],
        }[column]
    if role == Qt.ItemDataRole.ToolTipRole:
        # A waiting job says what it waits for; every job says why it is where it is.
        if job.message or job.state is S.WAITING:
            return state_tooltip(job)
        return f"{job.name} (job {job.id})\n{job.input}\n→ {job.output}"
    return None


class BatchTreeView(QWidget):
    """The batch tree with its own progress bars; ``selection_changed`` when the user
    picks rows (a batch row stands for all its jobs)."""

    selection_changed = Signal()

    def __init__(self, jobs: JobTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = BatchTreeModel(jobs, self)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setItemDelegateForColumn(BatchColumn.PROGRESS, ProgressBarDelegate(self.tree))
        self.tree.setAlternatingRowColors(True)
        for column, width in (
            (BatchColumn.NAME, 300),
            (BatchColumn.STATE, 220),
            (BatchColumn.PROGRESS, 120),
            (BatchColumn.ETA, 60),
        ):
            self.tree.setColumnWidth(column, width)
        self.tree.selectionModel().selectionChanged.connect(self._changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)

    def selected_jobs(self) -> list[Job]:
        """The jobs of the selected rows; a selected batch row gives all its jobs."""
        jobs: dict[str, Job] = {}
        for index in self.tree.selectionModel().selectedRows():
            job = self.model.job_at(index)
            picked = [job] if job is not None else self.model.jobs_of(self.model.batch_at(index))
            jobs.update((j.id, j) for j in picked)
        return list(jobs.values())

    def _changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self.selection_changed.emit()
