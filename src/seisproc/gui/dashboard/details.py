"""The selected job in full: where it reads and writes, its flow, its event log, its
error, and the live QC of its processed gathers.

The event log is the job history's record of state transitions (``job_events``), read
when the job is shown or changes state, never on each progress update. QC comes from the
process running the job: this window's manager (``JobManager.qc``), refreshed as its units
land, or the file another process mirrors it to (:class:`~seisproc.gui.dashboard.qc.
JobQcReader`), re-read as the history feed brings that job's progress.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import yaml
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seisproc.gui.dashboard.cells import short_node
from seisproc.gui.dashboard.model import format_clock, state_text_color
from seisproc.gui.qc_strip import QcStrip
from seisproc.jobs.model import Job, JobError
from seisproc.jobs.qc import JobQc

__all__ = ["JobDetailsPane", "EventLog", "QcSource", "error_text"]

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EventLog = Callable[[str], Sequence[Mapping[str, Any]]]
"""A job id to its transitions, each ``{"at", "from_state", "to_state", "message"}``
(:meth:`seisproc.history.JobHistoryStorage.job_events`)."""
QcSource = Callable[[str], JobQc]
"""A job id to its QC so far (:class:`~seisproc.gui.dashboard.qc.JobQcReader`)."""


def _local(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if at is not None else "-"


def _monospace(wrap: bool) -> QPlainTextEdit:
    text = QPlainTextEdit()
    text.setReadOnly(True)
    text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if wrap
                         else QPlainTextEdit.LineWrapMode.NoWrap)
    return text


def error_text(error: JobError) -> str:
    """The error as a person reads it: what, where, then the traceback if there is one.

    Ray colours a worker's traceback for a terminal; the escape codes are dropped here.
    """
    lines = [f"{error.type}: {error.message}"]
    if error.gather:
        lines.append(f"gather: {error.gather}")
    if error.traceback.strip():
        lines += ["", _ANSI_ESCAPE.sub("", error.traceback).rstrip()]
    return "\n".join(lines)


class JobDetailsPane(QWidget):
    """Summary fields above four tabs: Flow (YAML), Events (state log), QC, Error.

    Parameters
    ----------
    event_log
        Where the event log comes from; without it the Events tab stays empty.
    qc_source
        Where a job's QC comes from; without it the QC tab stays empty.
    """

    def __init__(self, event_log: EventLog | None = None, parent: QWidget | None = None,
                 *, qc_source: QcSource | None = None) -> None:
        super().__init__(parent)
        self._event_log = event_log
        self._qc_source = qc_source
        self._job: Job | None = None
        self.title = QLabel("No job selected")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self._fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in ("Job id", "Message", "Input", "Output", "Times", "Nodes"):
            label = QLabel("-")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self._fields[name] = label
            form.addRow(f"{name}:", label)
        self.flow_text = _monospace(wrap=False)
        self.events = QTreeWidget()
        self.events.setHeaderLabels(["Time", "From", "To", "Message"])
        self.events.setRootIsDecorated(False)
        self.error_text = _monospace(wrap=True)  # long messages stay in view
        self.tabs = QTabWidget()
        self.tabs.addTab(self.flow_text, "Flow")
        self.tabs.addTab(self.events, "Events")
        self.qc_strip = QcStrip()
        self.tabs.addTab(self.qc_strip, "QC")
        self._error_tab = self.tabs.addTab(self.error_text, "Error")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.tabs, stretch=1)
        self.show_job(None)

    @property
    def job(self) -> Job | None:
        return self._job

    def show_job(self, job: Job | None) -> None:
        """Show ``job`` (``None``: nothing selected); a failed job opens on its error."""
        previous, self._job = self._job, job
        self.setEnabled(job is not None)
        if job is None:
            self.title.setText("No job selected")
            for label in self._fields.values():
                label.setText("-")
            self.flow_text.clear()
            self.events.clear()
            self.qc_strip.clear()
            self.error_text.clear()
            self.tabs.setTabEnabled(self._error_tab, False)
            return
        same = previous is not None and previous.id == job.id
        self._show_summary(job)
        if not same:
            self.flow_text.setPlainText(yaml.safe_dump(job.flow, sort_keys=False)
                                        if job.flow else "")
            self.refresh_qc()
        if not same or previous is None or previous.state is not job.state:
            self.refresh_events()
            self._show_error(job)

    def refresh_qc(self) -> None:
        """Re-read the QC of the job shown (after its units landed)."""
        if self._job is None or self._qc_source is None:
            self.qc_strip.clear()
            return
        self.qc_strip.show_qc(self._qc_source(self._job.id))

    def refresh_events(self) -> None:
        """Re-read the event log of the job shown."""
        self.events.clear()
        if self._job is None or self._event_log is None:
            return
        for event in self._event_log(self._job.id):
            source = event.get("from_state")
            item = QTreeWidgetItem([
                _local(event.get("at")), source.value.capitalize() if source else "",
                event["to_state"].value.capitalize(), str(event.get("message") or "")])
            self.events.addTopLevelItem(item)
        for column in range(3):
            self.events.resizeColumnToContents(column)

    def _show_summary(self, job: Job) -> None:
        colour = state_text_color(job.state).name()
        self.title.setText(f"<b>{job.name}</b> &nbsp; <span style='color:{colour}'>"
                           f"<b>{job.state.value.capitalize()}</b></span>")
        progress = job.progress
        times = (f"created {_local(job.created_at)}, started {_local(job.started_at)}, "
                 f"finished {_local(job.finished_at)}; elapsed {format_clock(job.duration_s)}"
                 f" ({progress.traces_done:,} of {progress.traces_total:,} traces)")
        values = {"Job id": f"{job.id}  ({job.type.value.lower()}, run by {job.owner or '-'})",
                  "Message": job.message or "-", "Input": job.input or "-",
                  "Output": job.output or "-", "Times": times,
                  "Nodes": ", ".join(short_node(node) for node in job.nodes) or "-"}
        for name, value in values.items():
            self._fields[name].setText(value)
        self._fields["Nodes"].setToolTip("\n".join(["Ray node ids:", *job.nodes])
                                         if job.nodes else "")

    def _show_error(self, job: Job) -> None:
        """Fill the Error tab; a job that just failed (or was just picked) opens on it."""
        has_error = job.error is not None
        if not has_error and self.tabs.currentIndex() == self._error_tab:
            self.tabs.setCurrentIndex(0)  # before disabling, which would pick a neighbour
        self.tabs.setTabEnabled(self._error_tab, has_error)
        self.error_text.setPlainText(error_text(job.error) if job.error is not None else "")
        if has_error:
            self.tabs.setCurrentIndex(self._error_tab)
