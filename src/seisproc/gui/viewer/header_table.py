"""The trace headers of the trace under the cursor, with its time and amplitude."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seisproc.gui.viewer.frame import GatherFrame

__all__ = ["TraceHeaderTable"]


class TraceHeaderTable(QWidget):
    """A caption (trace, time, amplitude) over a two-column table: header word, value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("Move the cursor over a trace")
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Header", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.setMinimumWidth(280)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.table)
        self.trace = -1

    def show_trace(self, frame: GatherFrame, trace: int, time_ms: float | None = None) -> None:
        """Fill the table with the headers of ``trace`` (0-based) of ``frame``."""
        self.trace = trace
        caption = f"Trace {trace + 1} of {frame.n_traces}"
        if time_ms is not None:
            sample = round(time_ms / frame.sample_interval_ms)
            if 0 <= sample < frame.before.shape[1]:
                value = float(frame.before[trace, sample])
                caption += (f"\n{sample * frame.sample_interval_ms:g} ms  ·  "
                            f"amplitude {value:.4g}")
        self.caption.setText(caption)
        rows = list(frame.headers.items())
        self.table.setRowCount(len(rows))
        for row, (name, values) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            item = QTableWidgetItem(str(int(values[trace])))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, item)

    def value(self, name: str) -> str | None:
        """The value shown for header ``name`` (its segyio name), as text."""
        for row in range(self.table.rowCount()):
            key = self.table.item(row, 0)
            if key is not None and key.text() == name:
                cell = self.table.item(row, 1)
                return cell.text() if cell is not None else None
        return None

    def clear_trace(self) -> None:
        self.trace = -1
        self.caption.setText("Move the cursor over a trace")
        self.table.setRowCount(0)
