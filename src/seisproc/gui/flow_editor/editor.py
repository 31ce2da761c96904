"""The flow editor: build a processing flow, see what is wrong, save it, submit it.

A flow is edited as a whole (name, input, output, gather key, device) plus an ordered
list of steps picked from the processor registry, each with a form generated from the
processor's parameter model. Validation runs on every change, through the same models
and :class:`~seisproc.processing.flow.Flow` that ``seisproc run`` uses, so a flow the
editor calls valid is one the command line accepts. While anything is wrong the flow is
neither emitted, saved nor submitted, and every message names the step and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from seisproc.errors import FlowError, SeisprocError
from seisproc.gui.flow_editor.checks import InputProbe, gather_key_error
from seisproc.gui.flow_editor.param_form import ERROR_COLOUR, ParamForm
from seisproc.processing.base import available_processors, processor_class
from seisproc.processing.describe import describe_processor
from seisproc.processing.device import Device
from seisproc.processing.flow import Flow, load_flow

__all__ = ["FlowEditor", "COMMON_GATHER_KEYS"]

COMMON_GATHER_KEYS = ("ffid", "cdp", "offset", "channel", "inline", "crossline", "sx", "gx")
"""Offered in the gather-key box; any key :func:`seisproc.io.header_field` knows works."""

_OK_COLOUR = "#2e7d32"
_SEGY_FILTER = "SEG-Y files (*.sgy *.segy *.SGY *.SEGY);;All files (*)"
_FLOW_FILTER = "Flow files (*.yaml *.yml *.toml)"

Submit = Callable[[Flow], object]


@dataclass
class _Step:
    processor: str
    form: ParamForm


class FlowEditor(QWidget):
    """Create and edit a flow; save it as YAML or submit it as a job.

    Parameters
    ----------
    submit
        Called with the flow when the user presses "Submit as job" (the application
        passes ``JobManager.submit``). What it returns is emitted by :attr:`submitted`;
        a :class:`~seisproc.errors.SeisprocError` or ``OSError`` it raises is shown in the
        editor. ``None`` disables submitting.

    >>> editor = FlowEditor(submit=manager.submit)         # doctest: +SKIP
    >>> editor.load("flows/bandpass_agc.yaml")             # doctest: +SKIP
    >>> editor.flow_changed.connect(viewer.set_flow)       # doctest: +SKIP
    """

    flow_changed = Signal(object)
    """A valid :class:`Flow`, each time the edited flow becomes a different valid flow."""
    submitted = Signal(object)
    """What ``submit`` returned (a ``Job`` for ``JobManager.submit``)."""

    def __init__(self, submit: Submit | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._submit = submit
        self._base_dir = Path.cwd()
        self._steps: list[_Step] = []
        self._flow: Flow | None = None
        self._errors: list[str] = []
        self._last_emitted: Flow | None = None
        self._populating = False
        self._probe = InputProbe()
        self._build()
        self._refresh()

    # --- the flow -----------------------------------------------------------------------
    def flow(self) -> Flow:
        """The edited flow; :class:`FlowError` with every problem while it is invalid."""
        if self._flow is None:
            raise FlowError("; ".join(self._errors))
        return self._flow

    def is_valid(self) -> bool:
        return self._flow is not None

    def errors(self) -> list[str]:
        """What is wrong, one message per problem, each naming the step and the field."""
        return list(self._errors)

    def set_flow(self, flow: Flow) -> None:
        """Show ``flow`` for editing, replacing everything; :attr:`flow_changed` follows
        unless the flow is the one last emitted."""
        self._populating = True
        try:
            self.name_edit.setText(flow.name)
            self.input_edit.setText(str(flow.input))
            self.output_edit.setText(str(flow.output))
            self.gather_combo.setCurrentText(flow.gather_by)
            self.device_combo.setCurrentText(flow.device)
            while self._steps:
                self.remove_step(0)
            for step in flow.steps:
                self.add_step(step.processor, step.params)
        finally:
            self._populating = False
        self.steps_list.setCurrentRow(0)
        self._refresh()

    def load(self, path: str | Path) -> Flow:
        """Read and show a flow file; :class:`FlowError` if it is not a valid flow."""
        flow = load_flow(path)
        self._base_dir = Path(path).resolve().parent
        self.set_flow(flow)
        self._set_status(f"Opened {path}")
        return flow

    def save(self, path: str | Path) -> Path:
        """Write the flow as YAML (what ``seisproc run`` reads); refused while invalid."""
        path = Path(path)
        if path.suffix.lower() == ".toml":
            raise FlowError(f"{path}: flows are saved as YAML; choose a .yaml name")
        text = self.flow().to_yaml()
        path.write_text(text, encoding="utf-8")
        self._base_dir = path.resolve().parent
        self._set_status(f"Saved {path}")
        return path

    def set_submit(self, submit: Submit | None) -> None:
        """Change (or remove) what "Submit as job" calls."""
        self._submit = submit
        self._update_buttons()

    # --- steps --------------------------------------------------------------------------
    def add_step(self, processor: str, params: dict[str, Any] | None = None) -> ParamForm:
        """Append a step (a registered processor name) and select it."""
        cls = processor_class(processor)
        spec = describe_processor(cls)
        form = ParamForm(cls.Params, params or {}, summary=spec.summary)
        form.changed.connect(self._user_changed)
        self._steps.append(_Step(cls.name, form))
        self.form_stack.addWidget(form)
        self._steps_changed(len(self._steps) - 1)
        self._refresh()
        return form

    def remove_step(self, index: int) -> None:
        step = self._steps.pop(index)
        self.form_stack.removeWidget(step.form)
        step.form.deleteLater()
        self._steps_changed(min(index, len(self._steps) - 1))
        self._refresh()

    def move_step(self, index: int, offset: int) -> None:
        """Move step ``index`` by ``offset`` places (``-1``: up); out of range: no move."""
        target = index + offset
        if 0 <= index < len(self._steps) and 0 <= target < len(self._steps):
            self._steps.insert(target, self._steps.pop(index))
            self._steps_changed(target)
            self._refresh()

    def step_count(self) -> int:
        return len(self._steps)

    def step_names(self) -> list[str]:
        return [step.processor for step in self._steps]

    def step_form(self, index: int) -> ParamForm:
        return self._steps[index].form

    def current_step(self) -> int:
        """Index of the selected step, ``-1`` when there is none."""
        return self.steps_list.currentRow()

    # --- building -----------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_header())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_steps())
        splitter.addWidget(self._build_params())
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([300, 600])
        layout.addWidget(splitter, 1)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.problems_label)
        layout.addLayout(self._build_actions())
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

    def _build_header(self) -> QGroupBox:
        box = QGroupBox("Flow")
        form = QFormLayout(box)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("a short name, e.g. bandpass-agc")
        self.input_edit = QLineEdit()
        self.input_edit.setPlaceholderText("the SEG-Y file to process")
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("the SEG-Y file to write (must not exist)")
        self.gather_combo = QComboBox()
        self.gather_combo.setEditable(True)
        self.gather_combo.addItems(COMMON_GATHER_KEYS)
        self.gather_combo.setToolTip("Trace-header key whose value groups traces into gathers")
        self.device_combo = QComboBox()
        self.device_combo.addItems(list(get_args(Device)))
        self.device_combo.setToolTip("auto: GPU workers when the cluster has them, else CPU")
        form.addRow("Name", self.name_edit)
        form.addRow("Input", self._with_browse(self.input_edit, self._browse_input))
        form.addRow("Output", self._with_browse(self.output_edit, self._browse_output))
        keys = QHBoxLayout()
        self.gather_combo.setMinimumWidth(160)
        keys.addWidget(self.gather_combo)
        keys.addSpacing(24)
        keys.addWidget(QLabel("Device"))
        keys.addWidget(self.device_combo)
        keys.addStretch(1)
        form.addRow("Gather by", keys)
        for edit in (self.name_edit, self.input_edit, self.output_edit):
            edit.textChanged.connect(self._user_changed)
        self.gather_combo.currentTextChanged.connect(self._user_changed)
        self.device_combo.currentTextChanged.connect(self._user_changed)
        return box

    def _with_browse(self, edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        row.addWidget(button)
        return box

    def _build_steps(self) -> QGroupBox:
        box = QGroupBox("Steps")
        column = QVBoxLayout(box)
        self.steps_list = QListWidget()
        self.steps_list.setIconSize(QSize(16, 16))
        self.steps_list.currentRowChanged.connect(self._show_step)
        column.addWidget(self.steps_list, 1)
        adding = QHBoxLayout()
        self.add_combo = QComboBox()
        for name, cls in available_processors().items():
            self.add_combo.addItem(name)
            self.add_combo.setItemData(self.add_combo.count() - 1,
                                       describe_processor(cls).summary,
                                       Qt.ItemDataRole.ToolTipRole)
        self.add_button = QPushButton("Add step")
        self.add_button.clicked.connect(
            lambda: self._user_edit(lambda: self.add_step(self.add_combo.currentText())))
        adding.addWidget(self.add_combo, 1)
        adding.addWidget(self.add_button)
        column.addLayout(adding)
        moving = QHBoxLayout()
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.remove_button.clicked.connect(
            lambda: self._user_edit(lambda: self.remove_step(self.current_step())))
        self.up_button.clicked.connect(
            lambda: self._user_edit(lambda: self.move_step(self.current_step(), -1)))
        self.down_button.clicked.connect(
            lambda: self._user_edit(lambda: self.move_step(self.current_step(), 1)))
        for button in (self.remove_button, self.up_button, self.down_button):
            moving.addWidget(button)
        column.addLayout(moving)
        return box

    def _build_params(self) -> QGroupBox:
        self.params_box = QGroupBox("Parameters")
        column = QVBoxLayout(self.params_box)
        self.form_stack = QStackedWidget()
        self._no_step = QLabel("Add a step from the list on the left.")
        self._no_step.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.form_stack.addWidget(self._no_step)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_stack)
        column.addWidget(scroll)
        return self.params_box

    def _build_actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.open_button = QPushButton("Open flow…")
        self.open_button.clicked.connect(self._open_dialog)
        self.save_button = QPushButton("Save flow…")
        self.save_button.clicked.connect(self._save_dialog)
        self.submit_button = QPushButton("Submit as job")
        self.submit_button.clicked.connect(self._submit_clicked)
        row.addWidget(self.open_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        row.addWidget(self.submit_button)
        return row

    # --- reacting -----------------------------------------------------------------------
    def _user_edit(self, edit: Callable[[], object]) -> None:
        self._set_status("")
        edit()

    def _user_changed(self, *_: object) -> None:
        if not self._populating:
            self._set_status("")
            self._refresh()

    def _steps_changed(self, select: int) -> None:
        """Renumber the steps, rebuild the list and select row ``select``."""
        self.steps_list.blockSignals(True)
        self.steps_list.clear()
        for number, step in enumerate(self._steps, start=1):
            step.form.set_context(f"step {number} ({step.processor})")
            self.steps_list.addItem(QListWidgetItem(f"{number}. {step.processor}"))
        self.steps_list.blockSignals(False)
        self.steps_list.setCurrentRow(select)
        self._show_step(select)

    def _show_step(self, row: int) -> None:
        if 0 <= row < len(self._steps):
            step = self._steps[row]
            self.form_stack.setCurrentWidget(step.form)
            self.params_box.setTitle(f"Parameters of step {row + 1}: {step.processor}")
        else:
            self.form_stack.setCurrentWidget(self._no_step)
            self.params_box.setTitle("Parameters")
        self._update_buttons()

    def _refresh(self) -> None:
        if self._populating:
            return
        self._errors = self._collect_errors()
        self._show_problems()
        self._mark_steps()
        self._update_buttons()
        if self._flow is not None and self._flow != self._last_emitted:
            self._last_emitted = self._flow
            self.flow_changed.emit(self._flow)

    def _collect_errors(self) -> list[str]:
        self._flow = None
        errors = self._header_errors()
        if not self._steps:
            errors.append("steps: add at least one processing step")
        for step in self._steps:
            errors.extend(step.form.errors())
        if errors:
            return errors
        try:
            flow = Flow.from_mapping(self._mapping(), self._base_dir, source="flow")
        except SeisprocError as exc:
            return [str(exc)]
        errors = self._probe.data_errors(flow)
        self._flow = None if errors else flow
        return errors

    def _header_errors(self) -> list[str]:
        errors = []
        if not self.name_edit.text().strip():
            errors.append("name: give the flow a name")
        if not self.input_edit.text().strip():
            errors.append("input: choose the SEG-Y file to process")
        if not self.output_edit.text().strip():
            errors.append("output: choose the SEG-Y file to write")
        key_error = gather_key_error(self.gather_combo.currentText())
        return errors + ([key_error] if key_error else [])

    def _mapping(self) -> dict[str, Any]:
        return {
            "name": self.name_edit.text().strip(),
            "input": self.input_edit.text().strip(),
            "output": self.output_edit.text().strip(),
            "gather_by": self.gather_combo.currentText().strip(),
            "device": self.device_combo.currentText(),
            "steps": [{step.processor: step.form.values()} for step in self._steps],
        }

    def _show_problems(self) -> None:
        if not self._errors:
            self.problems_label.setStyleSheet(f"color: {_OK_COLOUR}")
            self.problems_label.setText(f"Valid flow: {len(self._steps)} step(s).")
            return
        count = len(self._errors)
        lines = [f"{count} problem{'s' if count > 1 else ''}:"]
        lines += [f"• {message}" for message in self._errors]
        self.problems_label.setStyleSheet(f"color: {ERROR_COLOUR}")
        self.problems_label.setText("\n".join(lines))

    def _mark_steps(self) -> None:
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        blank = QPixmap(self.steps_list.iconSize())
        blank.fill(Qt.GlobalColor.transparent)  # keeps every step's text in one column
        for row, step in enumerate(self._steps):
            item = self.steps_list.item(row)
            problems = step.form.errors()
            item.setIcon(warning if problems else QIcon(blank))
            item.setToolTip("\n".join(problems))

    def _update_buttons(self) -> None:
        row = self.current_step()
        has_step = 0 <= row < len(self._steps)
        self.remove_button.setEnabled(has_step)
        self.up_button.setEnabled(has_step and row > 0)
        self.down_button.setEnabled(has_step and row < len(self._steps) - 1)
        self.save_button.setEnabled(self.is_valid())
        self.submit_button.setEnabled(self.is_valid() and self._submit is not None)
        self.submit_button.setToolTip("" if self._submit is not None
                                      else "No job manager to submit to")

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet(f"color: {ERROR_COLOUR}" if error else "")
        self.status_label.setText(text)

    # --- actions ------------------------------------------------------------------------
    def _submit_clicked(self) -> None:
        if self._submit is None or self._flow is None:
            return
        flow = self._flow
        try:
            result = self._submit(flow)
        except (SeisprocError, OSError) as exc:
            self._set_status(f"Not submitted: {exc}", error=True)
            return
        job_id = getattr(result, "id", None)
        self._set_status(f"Submitted {flow.name}" + (f" as job {job_id}" if job_id else ""))
        self.submitted.emit(result)

    def _browse_input(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Input SEG-Y", self._start_dir(),
                                              _SEGY_FILTER)
        if path:
            self.input_edit.setText(path)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Output SEG-Y", self._start_dir(),
                                              _SEGY_FILTER)
        if path:
            self.output_edit.setText(path)

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open flow", str(self._base_dir),
                                              _FLOW_FILTER)
        if path:
            try:
                self.load(path)
            except SeisprocError as exc:
                self._set_status(f"Not opened: {exc}", error=True)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save flow", str(self._base_dir),
                                              "Flow files (*.yaml *.yml)")
        if path:
            try:
                self.save(path)
            except (SeisprocError, OSError) as exc:
                self._set_status(f"Not saved: {exc}", error=True)

    def _start_dir(self) -> str:
        current = Path(self.input_edit.text().strip())
        return str(current.parent) if current.parent.is_dir() else str(self._base_dir)


