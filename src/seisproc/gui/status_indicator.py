"""The status bar's job indicator: how many jobs run and wait, and how far they got.

It summarises the dashboard's :class:`~seisproc.gui.dashboard.model.JobTableModel` (so it
counts exactly the jobs the table lists) and recounts once per model change: a bridge
batch or the table's 1 s tick, however many jobs changed. Clicking it opens the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from seisproc.gui.dashboard.model import JobTableModel
from seisproc.jobs.model import Job, JobState

__all__ = ["JobCounts", "JobStatusIndicator"]

S = JobState


@dataclass(frozen=True)
class JobCounts:
    """Counts of the active jobs and their overall progress (0-1, by traces)."""

    running: int = 0
    queued: int = 0
    paused: int = 0
    fraction: float = 0.0
    waiting: int = 0
    """Jobs waiting for others to end (``--after``): listed, holding no slot."""

    @classmethod
    def of(cls, jobs: list[Job]) -> JobCounts:
        """Count ``jobs``; progress is traces done over traces to do of the active ones.

        >>> from seisproc.jobs.model import Job, JobState
        >>> JobCounts.of([Job(id="a", name="a", state=JobState.RUNNING)]).running
        1
        """
        active = [j for j in jobs if j.state.is_active()]
        total = sum(j.progress.traces_total for j in active)
        done = sum(j.progress.traces_done for j in active)
        return cls(running=sum(j.state is S.RUNNING for j in active),
                   queued=sum(j.state is S.QUEUED for j in active),
                   paused=sum(j.state is S.PAUSED for j in active),
                   fraction=done / total if total else 0.0,
                   waiting=sum(j.state is S.WAITING for j in active))

    @property
    def active(self) -> int:
        return self.running + self.queued + self.paused + self.waiting

    def text(self) -> str:
        """``"2 running · 1 queued"`` (paused and waiting only when there are some)."""
        parts = [f"{self.running} running", f"{self.queued} queued"]
        if self.waiting:
            parts.append(f"{self.waiting} waiting")
        if self.paused:
            parts.append(f"{self.paused} paused")
        return " · ".join(parts)


class JobStatusIndicator(QWidget):
    """A label and a small progress bar; a click emits :attr:`clicked`."""

    clicked = Signal()

    def __init__(self, model: JobTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.counts = JobCounts()
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(120)
        self.bar.setMaximumHeight(16)
        self.bar.setFormat("%p %")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Jobs running and queued, and their overall progress; "
                        "click to show the job dashboard")
        self._recount_soon = QTimer(self)  # one recount per event-loop turn, not per signal
        self._recount_soon.setSingleShot(True)
        self._recount_soon.setInterval(0)
        self._recount_soon.timeout.connect(self.recount)
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved,
                       model.modelReset):
            signal.connect(self._schedule_recount)
        self.recount()

    def _schedule_recount(self, *_: object) -> None:
        self._recount_soon.start()

    def recount(self) -> None:
        self.counts = JobCounts.of(self._model.jobs())
        self.label.setText(self.counts.text())
        self.bar.setValue(round(1000 * self.counts.fraction))
        self.bar.setVisible(self.counts.active > 0)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
                event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)
