"""A parameter form generated from a pydantic model, validated on every change.

The form never decides on its own what is valid: each change sends the values through the
processor's own parameter model, the same one a flow file is checked against, so the
editor and ``seisproc run`` accept exactly the same parameters. A problem with one field
marks that field (its name in red, its box tinted) and is shown under it; a problem
across fields (bandpass corners out of order) is shown under the form. The editor adds
the problems of the step with its input's sampling (:meth:`ParamForm.set_data_problems`)
the same way, so a field is marked whichever check found it wrong. Every message in
:meth:`ParamForm.errors` names the step and the field.

Each message line keeps its room whether it holds a message or not: messages come and go
while the user types, and the fields must stay where the pointer is.

Only the fields a flow gave, the user touched or the model requires are written back: a
flow loaded and saved unchanged keeps its parameters as they were, defaults left implicit.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import pydantic
from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from seisproc.errors import ParameterError
from seisproc.gui.flow_editor.checks import DataProblem
from seisproc.gui.flow_editor.fields import FieldEditor, format_number, make_field_editor
from seisproc.gui.flow_editor.problems import ERROR_COLOUR, ElidedLabel, set_colour, tinted
from seisproc.processing.describe import ParamSpec, describe_params

__all__ = ["ParamForm", "ERROR_COLOUR"]

_WIDE_KINDS = ("text", "float_list", "other")
"""Kinds typed as free text, given the form's width; numbers and choices stay compact."""


class ParamForm(QWidget):
    """Widgets for the fields of ``model``, with live validation messages.

    Parameters
    ----------
    model
        A pydantic model class, typically a processor's ``Params``.
    values
        Initial values (as in a flow file); fields left out keep their defaults.
    context
        How messages name the owner of these fields, e.g. ``"step 2 (agc)"``.

    >>> from seisproc.processing import processor_class          # doctest: +SKIP
    >>> form = ParamForm(processor_class("agc").Params, {"window_ms": 0}, context="step 1")
    >>> form.errors()                                            # doctest: +SKIP
    ['step 1, window_ms: Input should be greater than 0']
    """

    changed = Signal()
    """The user changed a value (valid or not)."""

    def __init__(
        self,
        model: type[pydantic.BaseModel],
        values: Mapping[str, Any] | None = None,
        *,
        context: str = "",
        summary: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._context = context
        self._specs = {spec.name: spec for spec in describe_params(model)}
        self._editors: dict[str, FieldEditor] = {}
        self._field_errors: dict[str, ElidedLabel] = {}
        self._row_labels: dict[str, QLabel] = {}
        self._plain: dict[str, QPalette] = {}
        self._explicit: set[str] = set()
        self._model_field_errors: dict[str, list[str]] = {}
        self._model_form_errors: list[str] = []
        self._data_problems: list[DataProblem] = []
        self._problems: list[tuple[str | None, str]] = []
        self._valid: pydantic.BaseModel | None = None
        self._build(summary)
        self.set_values(values or {})

    # --- public -----------------------------------------------------------------------
    @property
    def model(self) -> type[pydantic.BaseModel]:
        return self._model

    @property
    def specs(self) -> tuple[ParamSpec, ...]:
        return tuple(self._specs.values())

    def context(self) -> str:
        return self._context

    def set_context(self, context: str) -> None:
        """Rename the owner in messages (a step moved, so its number changed)."""
        self._context = context
        self._validate()

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show ``values``; fields not in it go back to their defaults."""
        unknown = sorted(set(values) - set(self._specs))
        if unknown:
            raise ParameterError(
                f"{self._where()}unknown field(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(self._specs)})"
            )
        self._explicit = {
            name for name, spec in self._specs.items() if name in values or spec.required
        }
        for name, spec in self._specs.items():
            if name in values:
                self._editors[name].set_value(values[name])
            elif not spec.required:
                self._editors[name].set_value(spec.default)
        self._validate()

    def values(self) -> dict[str, Any]:
        """The parameters as a flow file holds them (only explicit fields).

        Raises :class:`ParameterError` with every message while the parameter model
        refuses them.
        """
        if self._valid is None:
            raise ParameterError("; ".join(self.errors()))
        return self._valid.model_dump(mode="json", include=self._explicit)

    def draft_values(self) -> dict[str, Any]:
        """The explicit fields as they stand, valid or not (what an autosave keeps);
        a field whose text is not a value yet is left out."""
        draft = {}
        for name in self._specs:
            if name in self._explicit:
                try:
                    draft[name] = self._editors[name].value()
                except ValueError:
                    continue
        return draft

    def is_valid(self) -> bool:
        """The parameter model accepts the values (the data checks are the editor's)."""
        return self._valid is not None

    def errors(self) -> list[str]:
        """Every problem shown, each naming the context and the field."""
        return [message for _, message in self._problems]

    def problems(self) -> list[tuple[str | None, str]]:
        """``(field, message)`` per problem; ``None`` for a problem across fields."""
        return list(self._problems)

    def set_data_problems(self, problems: list[DataProblem]) -> None:
        """Show what is wrong with these values for the input's sampling (found by the
        editor with ``Processor.check``), on their fields like the model's messages.
        Any change of a value clears them until the editor checks again."""
        self._data_problems = list(problems)
        self._show_errors()

    def marked_fields(self) -> list[str]:
        """The fields shown as wrong (name in red, box tinted), in form order."""
        return [name for name in self._specs if self._field_errors[name].text()]

    def error_label(self, name: str) -> QLabel:
        """The line under ``name`` that shows its message."""
        return self._field_errors[name]

    def field_widget(self, name: str) -> QWidget:
        """The widget that edits ``name`` (a spin box, a combo box, a row of them...)."""
        return self._editors[name].widget

    def field_editor(self, name: str) -> FieldEditor:
        return self._editors[name]

    def field_error(self, name: str) -> str:
        """The problem with ``name`` as the problem list gives it (``''``: none); the
        line under the field shows it without the step's name."""
        return "; ".join(message for field, message in self._problems if field == name)

    def form_error(self) -> str:
        """The cross-field message shown under the form, ``''`` when there is none."""
        return self._form_error.text()

    # --- building ---------------------------------------------------------------------
    def _build(self, summary: str) -> None:
        layout = QVBoxLayout(self)
        if summary:
            about = QLabel(summary)
            about.setWordWrap(True)
            layout.addWidget(about)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in self._specs.values():
            form.addRow(self._row_label(spec), self._row_field(spec))
        layout.addLayout(form)
        self._form_error = _error_label(lines=2)
        layout.addWidget(self._form_error)
        layout.addStretch(1)

    def _row_label(self, spec: ParamSpec) -> QLabel:
        label = QLabel(spec.name)
        label.setToolTip(_tooltip(spec))
        self._row_labels[spec.name] = label
        return label

    def _row_field(self, spec: ParamSpec) -> QWidget:
        editor = make_field_editor(spec, partial(self._user_changed, spec.name))
        self._editors[spec.name] = editor
        editor.widget.setToolTip(_tooltip(spec))
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        line = QWidget()
        row_layout = QHBoxLayout(line)
        row_layout.setContentsMargins(0, 0, 0, 0)
        wide = spec.kind in _WIDE_KINDS
        row_layout.addWidget(editor.widget, 1 if wide else 0)
        row_layout.addWidget(QLabel(spec.unit))
        if not wide:
            row_layout.addStretch(1)
        column.addWidget(line)
        self._field_errors[spec.name] = _error_label()
        column.addWidget(self._field_errors[spec.name])
        self._plain[spec.name] = QPalette(editor.widget.palette())
        return cell

    # --- validation -------------------------------------------------------------------
    def _user_changed(self, name: str) -> None:
        self._explicit.add(name)
        self._validate()
        self.changed.emit()

    def _validate(self) -> None:
        raw: dict[str, Any] = {}
        field_errors: dict[str, list[str]] = {}
        for name in self._explicit:
            try:
                raw[name] = self._editors[name].value()
            except ValueError as exc:
                field_errors.setdefault(name, []).append(str(exc))
        form_errors: list[str] = []
        self._valid = None
        try:
            valid = self._model.model_validate(raw)
        except pydantic.ValidationError as exc:
            unreadable = set(field_errors)
            _sort_errors(exc, field_errors, form_errors, skip=unreadable)
            if unreadable:
                form_errors.clear()  # checked against defaults, not against what was typed
        else:
            self._valid = None if field_errors else valid
        self._model_field_errors, self._model_form_errors = field_errors, form_errors
        self._data_problems = []  # about values that changed: the editor checks again
        self._show_errors()

    def _show_errors(self) -> None:
        field_texts = {name: list(texts) for name, texts in self._model_field_errors.items()}
        form_texts = list(self._model_form_errors)
        prefixed: dict[str, list[str]] = {}
        for problem in self._data_problems:  # messages that already name their field
            if problem.field in self._specs:
                prefixed.setdefault(problem.field, []).append(problem.message)
            else:
                form_texts.append(problem.message)
        self._problems = []
        for name, label in self._field_errors.items():
            texts = field_texts.get(name, [])
            shown = "; ".join(texts + prefixed.get(name, []))
            if texts:
                self._problems.append((name, f"{self._where(name)}{'; '.join(texts)}"))
            self._problems += [(name, f"{self._where()}{m}") for m in prefixed.get(name, [])]
            label.setText(shown)
            self._mark(name, bool(shown))
        messages = [f"{self._where()}{text}" for text in form_texts]
        self._problems += [(None, message) for message in messages]
        self._form_error.setText("\n".join(form_texts))

    def _mark(self, name: str, wrong: bool) -> None:
        set_colour(self._row_labels[name], ERROR_COLOUR if wrong else None)
        self._editors[name].widget.setPalette(tinted(self._plain[name], wrong))

    def _where(self, field: str | None = None) -> str:
        parts = [p for p in (self._context, field) if p]
        return f"{', '.join(parts)}: " if parts else ""


def _sort_errors(
    exc: pydantic.ValidationError,
    field_errors: dict[str, list[str]],
    form_errors: list[str],
    skip: set[str],
) -> None:
    """File pydantic's errors under their field, or under the form when they have none."""
    for err in exc.errors():
        loc = err["loc"]
        message = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"]
        if not loc:
            form_errors.append(message)
            continue
        name = str(loc[0])
        if name in skip:
            continue  # the text could not be read; that message says more
        item = "".join(f"item {int(p) + 1}: " if isinstance(p, int) else f"{p}: " for p in loc[1:])
        field_errors.setdefault(name, []).append(item + message)


def _error_label(lines: int = 1) -> ElidedLabel:
    label = ElidedLabel(lines)
    set_colour(label, ERROR_COLOUR)
    return label


def _tooltip(spec: ParamSpec) -> str:
    lines = [spec.description] if spec.description else []
    lines.append(f"type: {spec.type_name}" + (f" ({spec.unit})" if spec.unit else ""))
    if spec.required:
        lines.append("required")
    elif spec.default is None:
        lines.append("default: not set")
    elif isinstance(spec.default, float):
        lines.append(f"default: {format_number(spec.default)}")
    else:
        lines.append(f"default: {spec.default}")
    return "\n".join(lines)
