"""A parameter form generated from a pydantic model, validated on every change.

The form never decides on its own what is valid: each change sends the values through the
processor's own parameter model, the same one a flow file is checked against, so the
editor and ``seisproc run`` accept exactly the same parameters. A problem with one field is
shown in red under that field; a problem across fields (bandpass corners out of order) is
shown in red under the form. Every message names the step and the field.

Only the fields a flow gave, the user touched or the model requires are written back: a
flow loaded and saved unchanged keeps its parameters as they were, defaults left implicit.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import pydantic
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from seisproc.errors import ParameterError
from seisproc.gui.flow_editor.fields import FieldEditor, format_number, make_field_editor
from seisproc.processing.describe import ParamSpec, describe_params

__all__ = ["ParamForm", "ERROR_COLOUR"]

_WIDE_KINDS = ("text", "float_list", "other")
"""Kinds typed as free text, given the form's width; numbers and choices stay compact."""

ERROR_COLOUR = "#c62828"
"""Red of error messages: readable on light and dark window backgrounds."""


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

    def __init__(self, model: type[pydantic.BaseModel], values: Mapping[str, Any] | None = None,
                 *, context: str = "", summary: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._context = context
        self._specs = {spec.name: spec for spec in describe_params(model)}
        self._editors: dict[str, FieldEditor] = {}
        self._field_errors: dict[str, QLabel] = {}
        self._row_labels: dict[str, QLabel] = {}
        self._explicit: set[str] = set()
        self._errors: list[str] = []
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
            raise ParameterError(f"{self._where()}unknown field(s) {', '.join(unknown)} "
                                 f"(allowed: {', '.join(self._specs)})")
        self._explicit = {name for name, spec in self._specs.items()
                          if name in values or spec.required}
        for name, spec in self._specs.items():
            if name in values:
                self._editors[name].set_value(values[name])
            elif not spec.required:
                self._editors[name].set_value(spec.default)
        self._validate()

    def values(self) -> dict[str, Any]:
        """The parameters as a flow file holds them (only explicit fields).

        Raises :class:`ParameterError` with every message while the form is invalid.
        """
        if self._valid is None:
            raise ParameterError("; ".join(self._errors))
        return self._valid.model_dump(mode="json", include=self._explicit)

    def is_valid(self) -> bool:
        return self._valid is not None

    def errors(self) -> list[str]:
        """Every problem, each naming the context and the field."""
        return list(self._errors)

    def field_widget(self, name: str) -> QWidget:
        """The widget that edits ``name`` (a spin box, a combo box, a row of them...)."""
        return self._editors[name].widget

    def field_editor(self, name: str) -> FieldEditor:
        return self._editors[name]

    def field_error(self, name: str) -> str:
        """The message shown next to ``name``, ``''`` when it has none."""
        label = self._field_errors[name]
        return label.text() if label.isVisibleTo(self) else ""

    def form_error(self) -> str:
        """The cross-field message shown under the form, ``''`` when there is none."""
        return self._form_error.text() if self._form_error.isVisibleTo(self) else ""

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
        self._form_error = _error_label()
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
        self._show_errors(field_errors, form_errors)

    def _show_errors(self, field_errors: dict[str, list[str]], form_errors: list[str]) -> None:
        self._errors = []
        for name, label in self._field_errors.items():
            text = "; ".join(field_errors.get(name, []))
            message = f"{self._where(name)}{text}" if text else ""
            if message:
                self._errors.append(message)
            label.setText(message)
            label.setVisible(bool(message))
            self._row_labels[name].setStyleSheet(f"color: {ERROR_COLOUR}" if message else "")
        messages = [f"{self._where()}{text}" for text in form_errors]
        self._errors.extend(messages)
        self._form_error.setText("\n".join(messages))
        self._form_error.setVisible(bool(messages))

    def _where(self, field: str | None = None) -> str:
        parts = [p for p in (self._context, field) if p]
        return f"{', '.join(parts)}: " if parts else ""


def _sort_errors(exc: pydantic.ValidationError, field_errors: dict[str, list[str]],
                 form_errors: list[str], skip: set[str]) -> None:
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
        item = "".join(f"item {int(p) + 1}: " if isinstance(p, int) else f"{p}: "
                       for p in loc[1:])
        field_errors.setdefault(name, []).append(item + message)


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {ERROR_COLOUR}")
    label.setVisible(False)
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
