"""The flow editor: build a processing flow, see what is wrong, save it, submit it.

A flow is edited as a whole (name, input, output, gather key, device) plus an ordered
list of steps picked from the processor registry, each with a form generated from the
processor's parameter model. A new step starts with the processor's starting values
(:mod:`.starting`), valid at once. Validation runs on every change, through the same
models, :class:`~seisproc.processing.flow.Flow` and ``Processor.check`` against the
input's sampling that ``seisproc run`` uses, so a flow the editor calls valid is one the
command line accepts. Each problem marks its field and its step, whichever check found
it, and is listed under the steps; while there is one, the flow is neither emitted,
saved nor submitted. Changes not saved are autosaved and asked about before they would
be lost (:mod:`.unsaved`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from seisproc.errors import FlowError, SeisprocError
from seisproc.gui.flow_editor.checks import InputProbe
from seisproc.gui.flow_editor.drafts import Autosave, AutosaveError, Draft, default_autosave_path
from seisproc.gui.flow_editor.layout import COMMON_GATHER_KEYS, EditorLayout
from seisproc.gui.flow_editor.param_form import ParamForm
from seisproc.gui.flow_editor.problems import Problem
from seisproc.gui.flow_editor.starting import starting_params
from seisproc.gui.flow_editor.unsaved import Answer, UnsavedChanges, ask_unsaved
from seisproc.gui.flow_editor.validation import validate
from seisproc.processing.base import processor_class
from seisproc.processing.describe import describe_processor
from seisproc.processing.flow import Flow, load_flow

__all__ = ["FlowEditor", "COMMON_GATHER_KEYS"]

_SEGY_FILTER = "SEG-Y files (*.sgy *.segy *.SGY *.SEGY);;All files (*)"
_FLOW_FILTER = "Flow files (*.yaml *.yml *.toml)"

Submit = Callable[[Flow], object]


@dataclass
class _Step:
    processor: str
    form: ParamForm


class FlowEditor(EditorLayout):
    """Create and edit a flow; save it as YAML or submit it as a job.

    Parameters
    ----------
    submit
        Called with the flow when the user presses "Submit as job" (the application
        passes ``JobManager.submit``). What it returns is emitted by :attr:`submitted`;
        a :class:`~seisproc.errors.SeisprocError` or ``OSError`` it raises is shown in the
        editor. ``None`` disables submitting.
    autosave
        Keep unsaved changes in ``SEISPROC_HOME/autosave/flow.yaml`` and restore them
        when the editor opens (the application's editor does; a throw-away one may not).

    >>> editor = FlowEditor(submit=manager.submit)         # doctest: +SKIP
    >>> editor.load("flows/bandpass_agc.yaml")             # doctest: +SKIP
    >>> editor.flow_changed.connect(viewer.set_flow)       # doctest: +SKIP
    >>> window_closing = editor.confirm_discard(quitting=True)  # doctest: +SKIP
    """

    flow_changed = Signal(object)
    """A valid :class:`Flow`, each time the edited flow becomes a different valid flow."""
    submitted = Signal(object)
    """What ``submit`` returned (a ``Job`` for ``JobManager.submit``)."""

    def __init__(
        self, submit: Submit | None = None, parent: QWidget | None = None, *, autosave: bool = True
    ) -> None:
        super().__init__(parent)
        self._submit = submit
        self._base_dir = Path.cwd()
        self._file: Path | None = None
        self._steps: list[_Step] = []
        self._flow: Flow | None = None
        self._problems: list[Problem] = []
        self._last_emitted: Flow | None = None
        self._populating = False
        self._probe = InputProbe()
        self._connect()
        self._unsaved = UnsavedChanges(
            self._draft,
            lambda: (self._file, self._base_dir),
            Autosave(default_autosave_path()) if autosave else None,
            self,
        )
        if self._unsaved.autosave is not None:
            self._restore(self._unsaved.autosave)
        self._refresh()

    # --- the flow -----------------------------------------------------------------------
    def flow(self) -> Flow:
        """The edited flow; :class:`FlowError` with every problem while it is invalid."""
        if self._flow is None:
            raise FlowError("; ".join(self.errors()))
        return self._flow

    def is_valid(self) -> bool:
        return self._flow is not None

    def errors(self) -> list[str]:
        """What is wrong, one message per problem, each naming the step and the field."""
        return [problem.message for problem in self._problems]

    def problems(self) -> list[Problem]:
        """What is wrong, with the step and the field each message is about."""
        return list(self._problems)

    def file(self) -> Path | None:
        """The flow file last opened or saved; ``None`` for a flow never saved."""
        return self._file

    def set_flow(self, flow: Flow) -> None:
        """Show ``flow`` for editing, replacing everything (without asking: see
        :meth:`confirm_discard`); it counts as saved. :attr:`flow_changed` follows unless
        the flow is the one last emitted."""
        self._replace(Draft.from_flow(flow), file=None)

    def load(self, path: str | Path) -> Flow:
        """Read and show a flow file; :class:`FlowError` if it is not a valid flow."""
        flow = load_flow(path)
        self._base_dir = Path(path).resolve().parent
        self._replace(Draft.from_flow(flow), file=Path(path))
        self.set_status(f"Opened {path}")
        return flow

    def save(self, path: str | Path) -> Path:
        """Write the flow as YAML (what ``seisproc run`` reads); refused while invalid."""
        path = Path(path)
        if path.suffix.lower() == ".toml":
            raise FlowError(f"{path}: flows are saved as YAML; choose a .yaml name")
        text = self.flow().to_yaml()
        path.write_text(text, encoding="utf-8")
        self._base_dir = path.resolve().parent
        self._file = path
        self._unsaved.mark_saved()
        self._refresh()
        self.set_status(f"Saved {path}")
        return path

    def new_flow(self) -> None:
        """Start an empty flow (without asking: see :meth:`confirm_discard`)."""
        self._replace(Draft(), file=None)
        self.set_status("")

    def set_submit(self, submit: Submit | None) -> None:
        """Change (or remove) what "Submit as job" calls."""
        self._submit = submit
        self._update_buttons()

    # --- unsaved changes ----------------------------------------------------------------
    def is_modified(self) -> bool:
        """Whether what is shown differs from what was last opened, saved or discarded."""
        return self._unsaved.is_modified()

    def confirm_discard(self, quitting: bool = False) -> bool:
        """Ask about unsaved changes before they would be lost; ``True``: go on.

        Nothing to ask when nothing is unsaved. "Save" saves (asking for a name when the
        flow has no file yet); "Discard" forgets the changes and their autosave;
        "Cancel" (or a save that did not happen) answers ``False``. When ``quitting``, a
        flow with problems can be kept as a draft that the next editor restores.
        """
        if not self.is_modified():
            return True
        answer = self.ask_unsaved(quitting)
        if answer == "save":
            return self._save_for_prompt()
        if answer == "keep":
            self._unsaved.write_autosave()
            return True
        if answer == "discard":
            self._unsaved.mark_saved()  # what is shown now is what the user chose to keep
            self._refresh()
            return True
        return False

    def ask_unsaved(self, quitting: bool = False) -> Answer:
        """``"save"``, ``"keep"``, ``"discard"`` or ``"cancel"``, from a message box."""
        return ask_unsaved(self, self.name_edit.text(), self._file, len(self._problems), quitting)

    def write_autosave(self) -> None:
        """Write the unsaved changes to the autosave now rather than after the delay."""
        self._unsaved.write_autosave()

    # --- steps --------------------------------------------------------------------------
    def add_step(self, processor: str, params: dict[str, Any] | None = None) -> ParamForm:
        """Append a step (a registered processor name) and select it.

        ``params`` as a flow file gives them; ``None`` (a new step) starts with the
        processor's starting values.
        """
        cls = processor_class(processor)
        values = starting_params(cls) if params is None else params
        form = ParamForm(cls.Params, values, summary=describe_processor(cls).summary)
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

    # --- wiring -------------------------------------------------------------------------
    def _connect(self) -> None:
        for edit in (self.name_edit, self.input_edit, self.output_edit):
            edit.textChanged.connect(self._user_changed)
        self.gather_combo.currentTextChanged.connect(self._user_changed)
        self.device_combo.currentTextChanged.connect(self._user_changed)
        self.input_browse.clicked.connect(self._browse_input)
        self.output_browse.clicked.connect(self._browse_output)
        self.steps_list.currentRowChanged.connect(self._show_step)
        self.add_button.clicked.connect(
            lambda: self._user_edit(lambda: self.add_step(self.add_combo.currentText()))
        )
        self.remove_button.clicked.connect(
            lambda: self._user_edit(lambda: self.remove_step(self.current_step()))
        )
        self.up_button.clicked.connect(
            lambda: self._user_edit(lambda: self.move_step(self.current_step(), -1))
        )
        self.down_button.clicked.connect(
            lambda: self._user_edit(lambda: self.move_step(self.current_step(), 1))
        )
        self.new_button.clicked.connect(self._new_clicked)
        self.open_button.clicked.connect(self._open_dialog)
        self.save_button.clicked.connect(self._save_dialog)
        self.submit_button.clicked.connect(self._submit_clicked)
        self.problems_panel.problem_clicked.connect(self.go_to_problem)

    def _user_edit(self, edit: Callable[[], object]) -> None:
        self.set_status("")
        edit()

    def _user_changed(self, *_: object) -> None:
        if not self._populating:
            self.set_status("")
            self._refresh()

    def _steps_changed(self, select: int) -> None:
        """Renumber the steps, rebuild the list and select row ``select``."""
        self.steps_list.blockSignals(True)
        self.steps_list.clear()
        for number, step in enumerate(self._steps, start=1):
            step.form.set_context(f"step {number} ({step.processor})")
            self.steps_list.addItem(f"{number}. {step.processor}")
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

    def go_to_problem(self, problem: Problem) -> None:
        """Show the step and focus the field that ``problem`` is about."""
        if problem.step is None:
            widget = self.header_widgets.get(problem.field or "")
        else:
            self.steps_list.setCurrentRow(problem.step)
            form = self._steps[problem.step].form
            widget = form.field_widget(problem.field) if problem.field else None
        if widget is not None:
            widget.setFocus()

    # --- validation ---------------------------------------------------------------------
    def _refresh(self) -> None:
        if self._populating:
            return
        verdict = validate(
            self._draft(), [step.form for step in self._steps], self._base_dir, self._probe
        )
        self._flow, self._problems = verdict.flow, verdict.problems
        self.mark_header(verdict.header)
        self.problems_panel.show_problems(
            self._problems, f"Valid flow: {len(self._steps)} step(s)."
        )
        self.mark_steps([step.form.errors() for step in self._steps])
        self._update_buttons()
        self._unsaved.changed()
        self._show_file()
        if self._flow is not None and self._flow != self._last_emitted:
            self._last_emitted = self._flow
            self.flow_changed.emit(self._flow)

    def _update_buttons(self) -> None:
        row = self.current_step()
        has_step = 0 <= row < len(self._steps)
        self.remove_button.setEnabled(has_step)
        self.up_button.setEnabled(has_step and row > 0)
        self.down_button.setEnabled(has_step and row < len(self._steps) - 1)
        self.save_button.setEnabled(self.is_valid())
        self.submit_button.setEnabled(self.is_valid() and self._submit is not None)
        self.submit_button.setToolTip(
            "" if self._submit is not None else "No job manager to submit to"
        )

    def _show_file(self) -> None:
        name = self._file.name if self._file else "new flow"
        self.file_label.setText(name + (" · unsaved changes" if self.is_modified() else ""))
        self.file_label.setToolTip(str(self._file) if self._file else "not saved to a file")

    # --- drafts -------------------------------------------------------------------------
    def _draft(self) -> Draft:
        return Draft(
            self.name_edit.text(),
            self.input_edit.text(),
            self.output_edit.text(),
            self.gather_combo.currentText(),
            self.device_combo.currentText(),
            tuple((s.processor, s.form.draft_values()) for s in self._steps),
        )

    def _replace(self, draft: Draft, file: Path | None) -> None:
        """Show ``draft`` as the content of ``file``: nothing unsaved."""
        self._show_draft(draft)
        self._file = file
        self._unsaved.mark_saved()
        self._refresh()

    def _show_draft(self, draft: Draft) -> list[str]:
        """Show ``draft`` in every widget; the steps that could not be shown, and why.
        The caller refreshes."""
        skipped = []
        self._populating = True
        try:
            self.name_edit.setText(draft.name)
            self.input_edit.setText(draft.input)
            self.output_edit.setText(draft.output)
            self.gather_combo.setCurrentText(draft.gather_by)
            self.device_combo.setCurrentText(draft.device)
            while self._steps:
                self.remove_step(0)
            for number, (processor, params) in enumerate(draft.steps, start=1):
                try:
                    self.add_step(processor, params)
                except (SeisprocError, ValueError, TypeError) as exc:
                    skipped.append(f"step {number} ({processor}): {exc}")
        finally:
            self._populating = False
        self.steps_list.setCurrentRow(0)
        return skipped

    def _restore(self, autosave: Autosave) -> None:
        """Show the flow that was being edited when the last editor closed unsaved."""
        try:
            found = autosave.read()
        except AutosaveError as exc:
            kept = autosave.set_aside()
            self.set_status(
                f"The autosaved flow could not be read ({exc}); kept as {kept}", error=True
            )
            return
        if found is None:
            return
        draft, self._file, self._base_dir, saved_at = found
        skipped = self._show_draft(draft)
        self._unsaved.mark_unsaved()
        self._refresh()
        note = f"; left out {', '.join(skipped)}" if skipped else ""
        self.set_status(
            f"Restored the unsaved flow autosaved at {saved_at}: save it, or "
            f"start a new flow to discard it{note}",
            error=bool(skipped),
        )

    # --- actions ------------------------------------------------------------------------
    def _submit_clicked(self) -> None:
        if self._submit is None or self._flow is None:
            return
        flow = self._flow
        try:
            result = self._submit(flow)
        except (SeisprocError, OSError) as exc:
            self.set_status(f"Not submitted: {exc}", error=True)
            return
        job_id = getattr(result, "id", None)
        self.set_status(f"Submitted {flow.name}" + (f" as job {job_id}" if job_id else ""))
        self.submitted.emit(result)

    def _browse_input(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Input SEG-Y", self._start_dir(), _SEGY_FILTER)
        if path:
            self.input_edit.setText(path)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Output SEG-Y", self._start_dir(), _SEGY_FILTER)
        if path:
            self.output_edit.setText(path)

    def _new_clicked(self) -> None:
        if self.confirm_discard():
            self.new_flow()

    def _open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open flow", str(self._base_dir), _FLOW_FILTER)
        if path:
            try:
                self.load(path)
            except SeisprocError as exc:
                self.set_status(f"Not opened: {exc}", error=True)

    def _save_dialog(self) -> None:
        path = self._ask_save_path()
        if path is not None:
            try:
                self.save(path)
            except (SeisprocError, OSError) as exc:
                self.set_status(f"Not saved: {exc}", error=True)

    def _save_for_prompt(self) -> bool:
        """Save to the flow's file (a name is asked for a new or TOML flow): saved?"""
        path = self._file
        if path is None or path.suffix.lower() not in (".yaml", ".yml"):
            path = self._ask_save_path()
        if path is None:
            return False
        try:
            self.save(path)
        except (SeisprocError, OSError) as exc:
            self.set_status(f"Not saved: {exc}", error=True)
            return False
        return True

    def _ask_save_path(self) -> Path | None:
        start = str(self._file or self._base_dir)
        path, _ = QFileDialog.getSaveFileName(self, "Save flow", start, "Flow files (*.yaml *.yml)")
        return Path(path) if path else None

    def _start_dir(self) -> str:
        current = Path(self.input_edit.text().strip())
        return str(current.parent) if current.parent.is_dir() else str(self._base_dir)
