"""The worker table's model: one row per worker actor of the latest cluster snapshot.

It adapts :attr:`~seisproc.monitoring.snapshot.ClusterStatus.workers` (the probe's rows)
for a ``QTableView``; it owns no worker state. Nodes show as their address and the head
of their id, jobs as their name and id, so a row reads "10.0.0.2 (3f9a...) · w-8c1d ·
cpu · busy · nightly-stack (a41f...)". Rows are sorted by node then worker; when the same
workers come back (each sample), only changed cells are repainted and the selection
stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from seisproc.gui.widgets.format import format_bytes, short_id
from seisproc.monitoring.snapshot import ClusterStatus, WorkerInfo

__all__ = ["WORKER_COLUMNS", "WorkerTableModel"]

WORKER_COLUMNS: tuple[str, ...] = ("Node", "Worker", "Kind", "State", "Current job")
_STATE_COLORS = {"busy": QColor("#2e9d5b"), "idle": QColor("#6c757d"),
                 "warm": QColor("#3d7ab8")}
"""``warm``: a worker of the local service another process uses (see ``service_cluster``)."""
_Index = QModelIndex | QPersistentModelIndex


class WorkerTableModel(QAbstractTableModel):
    """Worker rows for the resource monitor (see the module docstring)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[WorkerInfo] = []
        self._addresses: dict[str, str] = {}
        self._job_names: dict[str, str] = {}

    # ------------------------------------------------------------------ updates
    def set_cluster(self, cluster: ClusterStatus | None,
                    job_names: Mapping[str, str] | None = None) -> None:
        """Show ``cluster``'s workers (none without a cluster); ``job_names`` maps job ids
        to names for the current-job column."""
        rows = sorted(cluster.workers if cluster else (),
                      key=lambda w: (w.node_id, w.worker_id))
        self._addresses = {n.node_id: n.address for n in cluster.nodes} if cluster else {}
        self._job_names = dict(job_names or {})
        same_workers = [w.worker_id for w in rows] == [w.worker_id for w in self._rows]
        if same_workers:
            self._rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(rows) - 1, len(WORKER_COLUMNS) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def worker(self, row: int) -> WorkerInfo:
        return self._rows[row]

    def workers(self) -> list[WorkerInfo]:
        return list(self._rows)

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(WORKER_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return WORKER_COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        worker = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(worker, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(worker, column)
        if column == 3 and role == Qt.ItemDataRole.ForegroundRole:
            return _STATE_COLORS.get(worker.state)
        if column == 3 and role == Qt.ItemDataRole.FontRole and worker.state == "busy":
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _text(self, worker: WorkerInfo, column: int) -> str:
        if column == 0:
            if not worker.node_id:
                return "(starting)"
            address = self._addresses.get(worker.node_id, "")
            node = short_id(worker.node_id)
            return f"{address} ({node})" if address else node
        if column == 1:
            return short_id(worker.worker_id)
        if column == 2:
            return _kind_text(worker)
        if column == 3:
            queued = worker.units_in_flight - 1
            return f"{worker.state} (+{queued} queued)" if queued > 0 else worker.state
        return self._job_text(worker.job_id)

    def _job_text(self, job_id: str | None) -> str:
        if job_id is None:
            return "-"
        name = self._job_names.get(job_id)
        return f"{name} ({job_id})" if name else job_id

    def _tooltip(self, worker: WorkerInfo, column: int) -> str | None:
        device = worker.device_name or ""
        if device and worker.device_index is not None:
            device += f" (GPU {worker.device_index})"
        full = {0: worker.node_id, 1: worker.worker_id, 2: device,
                4: worker.job_id or ""}.get(column)
        return full or None


def _kind_text(worker: WorkerInfo) -> str:
    """``cuda · 1.2 GB used of 4.0 GB budget, peak 2.0 GB`` for a GPU worker that reported
    its device memory (of the whole device when it has no budget); the kind alone else."""
    if worker.device_name is None:
        return worker.kind
    of = (f"{format_bytes(worker.device_budget_bytes)} budget" if worker.device_budget_bytes
          else format_bytes(worker.device_total_bytes))
    return (f"{worker.kind} · {format_bytes(worker.device_used_bytes)} used of {of}, "
            f"peak {format_bytes(worker.device_peak_bytes)}")
