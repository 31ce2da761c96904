"""The job table's view: a progress bar in a table cell, coloured by the job's state."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
)

from seisproc.gui.dashboard.model import JOB_ROLE, PROGRESS_ROLE, Column
from seisproc.gui.palette import state_color
from seisproc.jobs.model import Job, JobState

__all__ = ["ProgressBarDelegate", "job_table_view"]

_BAR_STATES = (JobState.PAUSED, JobState.FAILED, JobState.CANCELLED, JobState.CANCELLING,
               JobState.INTERRUPTED, JobState.COMPLETED)
"""States whose bar takes the state's colour; a running or queued bar keeps the style's."""


class ProgressBarDelegate(QStyledItemDelegate):
    """Paints the cell's :data:`PROGRESS_ROLE` fraction as the style's progress bar."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter,
                            widget)  # the selection background
        fraction = float(index.data(PROGRESS_ROLE) or 0.0)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 3, -3, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = round(1000 * min(max(fraction, 0.0), 1.0))
        bar.text = str(index.data() or "")
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.palette = QPalette(option.palette)
        bar.fontMetrics = option.fontMetrics
        job = index.data(JOB_ROLE)
        if isinstance(job, Job) and job.state in _BAR_STATES:
            bar.palette.setColor(QPalette.ColorRole.Highlight, state_color(job.state))
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 110), hint.height())


_WIDTHS = ((Column.ID, 110), (Column.NAME, 150), (Column.STATE, 120), (Column.PROGRESS, 120),
           (Column.RATE, 70), (Column.ETA, 55), (Column.ELAPSED, 70), (Column.SUBMITTED, 120),
           (Column.OWNER, 140), (Column.INPUT, 140), (Column.NODES, 100), (Column.TYPE, 80))


def job_table_view(proxy: QAbstractItemModel) -> QTableView:
    """The job table's view: whole rows selected, progress bars, the columns' widths, newest
    first, a context menu for the dashboard to fill."""
    view = QTableView()
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setItemDelegateForColumn(Column.PROGRESS, ProgressBarDelegate(view))
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    for column, width in _WIDTHS:
        view.setColumnWidth(column, width)
    view.sortByColumn(Column.SUBMITTED, Qt.SortOrder.DescendingOrder)  # newest first
    view.setSortingEnabled(True)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    return view

