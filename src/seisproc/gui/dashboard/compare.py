"""Compare two jobs from the dashboard: what ``seisproc diff A B`` says, in a dialog.

The comparison reads both outputs whole (:func:`~seisproc.production.diff_outputs`), so
it runs on a worker thread (:class:`~seisproc.gui.viewer.runner.LatestRequestRunner`)
and the dialog fills in when it is done. The flows', files' and environments'
differences are the same functions the command prints, so the window and the terminal
never disagree about what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seisproc.errors import SeisprocError
from seisproc.gui.viewer.runner import LatestRequestRunner
from seisproc.jobs.model import Job
from seisproc.production import (
    GatherDiff,
    OutputDiff,
    diff_outputs,
    environment_differences,
    file_differences,
    flow_differences,
)

__all__ = ["Comparison", "CompareDialog", "compare_jobs"]

_TABLE_HEADERS = ("Gather", "RMS(A−B)/RMS(A)", "Max |A−B|", "Trace", "Sample", "Time (s)")


@dataclass(frozen=True)
class Comparison:
    """Two jobs' differences: each list empty when that part is the same."""

    a: Job
    b: Job
    flow: list[str]
    files: list[str]
    environment: list[str] | None
    """``None`` when either job recorded no environment (submitted before it was)."""
    outputs: OutputDiff | None
    outputs_error: str = ""
    """Why the outputs were not compared (missing, not the same traces)."""

    def lines(self) -> list[str]:
        """The flows', files' and environments' differences, as the terminal has them."""
        lines = [
            f"A: job {self.a.id} ({self.a.name}) {self.a.state.value}",
            f"B: job {self.b.id} ({self.b.name}) {self.b.state.value}",
        ]
        lines += (
            ["flow: the same steps and parameters"]
            if not self.flow
            else ["flow:", *(f"  {line}" for line in self.flow)]
        )
        lines += [f"files: {line}" for line in self.files]
        if self.environment is None:
            lines.append(
                "environment: not recorded for "
                + " and ".join(job.id for job in (self.a, self.b) if not job.provenance)
            )
        else:
            lines += (
                ["environment: the same"]
                if not self.environment
                else ["environment:", *(f"  {line}" for line in self.environment)]
            )
        if self.outputs is not None:
            lines += self.outputs.lines(limit=3)
        else:
            lines.append(f"outputs: not compared: {self.outputs_error}")
        return lines


def compare_jobs(a: Job, b: Job) -> Comparison:
    """Everything that differs between jobs ``a`` and ``b`` (reads both outputs; run it
    off the GUI thread). Outputs that cannot be compared are said why, not raised."""
    environment = (
        environment_differences(a.provenance, b.provenance)
        if a.provenance and b.provenance
        else None
    )
    outputs, error = None, ""
    missing = [job.output for job in (a, b) if not Path(job.output).is_file()]
    if missing:
        error = f"{missing[0]}: no such output (was the job completed?)"
    else:
        try:
            outputs = diff_outputs(a.output, b.output, str(a.flow.get("gather_by") or "ffid"))
        except SeisprocError as exc:
            error = str(exc)
    return Comparison(
        a,
        b,
        flow_differences(a.flow, b.flow),
        file_differences(a.flow, b.flow),
        environment,
        outputs,
        error,
    )


class CompareDialog(QDialog):
    """Two jobs' comparison: the differences as text above the per-gather table (most
    different first); "Show in viewer" asks for the gather that differs most.

    ``ready`` fires once the comparison is shown; ``open_gather(job_a, key_value)`` asks
    for job A's output at that gather (its flow's ``gather_by``) in the gather viewer.
    """

    ready = Signal()
    open_gather = Signal(object, int)

    def __init__(self, a: Job, b: Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {a.id} and {b.id}")
        self.comparison: Comparison | None = None
        self.summary = QPlainTextEdit(f"Comparing job {a.id} with job {b.id}…")
        self.summary.setReadOnly(True)
        self.gathers = QTableWidget(0, len(_TABLE_HEADERS))
        self.gathers.setHorizontalHeaderLabels(_TABLE_HEADERS)
        self.gathers.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.gathers.verticalHeader().hide()
        self.gathers.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verdict = QLabel()
        self.show_worst = QPushButton("Show the most different gather in the viewer")
        self.show_worst.setEnabled(False)
        self.show_worst.clicked.connect(self._open_worst)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.show_worst, QDialogButtonBox.ButtonRole.ActionRole)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.summary)
        splitter.addWidget(self.gathers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addWidget(splitter, stretch=1)
        layout.addWidget(buttons)
        self.resize(760, 520)
        self._runner = LatestRequestRunner(self)
        self._runner.finished.connect(self._show)
        self._runner.failed.connect(self._show_error)
        self._runner.submit(lambda: compare_jobs(a, b))

    def done(self, result: int) -> None:  # noqa: D401 (Qt API)
        self._runner.shutdown()
        super().done(result)

    def _show(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.summary.setPlainText("\n".join(comparison.lines()))
        outputs = comparison.outputs
        if outputs is None:
            self.verdict.setText(f"Outputs not compared: {comparison.outputs_error}")
        elif outputs.identical:
            self.verdict.setText("Outputs identical: every byte the same")
        else:
            self.verdict.setText(outputs.lines(limit=0)[0].capitalize())
        differing = outputs.differing() if outputs is not None else []
        if outputs is not None:
            self._fill_table(outputs, differing)
        self.show_worst.setEnabled(bool(differing))
        self.ready.emit()

    def _fill_table(self, outputs: OutputDiff, differing: list[GatherDiff]) -> None:
        self.gathers.setRowCount(len(differing))
        for row, gather in enumerate(differing):
            time_s = gather.max_sample * outputs.sample_interval_ms / 1000
            cells = (
                f"{outputs.gather_key}={gather.key}",
                f"{gather.relative_rms:.3g}",
                f"{gather.max_abs_diff:.4g}",
                str(gather.max_trace),
                str(gather.max_sample),
                f"{time_s:.3f}",
            )
            for column, text in enumerate(cells):
                self.gathers.setItem(row, column, QTableWidgetItem(text))

    def _show_error(self, error: BaseException) -> None:
        self.verdict.setText(f"The comparison failed: {error}")
        self.summary.setPlainText(f"{type(error).__name__}: {error}")
        self.ready.emit()

    def _open_worst(self) -> None:
        comparison = self.comparison
        outputs = comparison.outputs if comparison is not None else None
        worst = outputs.worst() if outputs is not None else None
        if comparison is not None and worst is not None:
            self.open_gather.emit(comparison.a, int(worst.key))
