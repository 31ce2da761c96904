"""One input widget per kind of processor parameter.

Each editor turns a :class:`~seisproc.processing.describe.ParamSpec` into a widget a user
can type into, and back into a plain value (float, int, bool, str, list) that the
processor's pydantic model then validates. Widgets carry the cheap limits (a spin box's
range from the field's bounds) so most mistakes cannot be typed at all; what is left
(an exclusive bound reached, corners out of order) is the model's to report.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import yaml
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from seisproc.processing.describe import Bounds, ParamSpec

__all__ = ["FieldEditor", "NumberSpinBox", "make_field_editor", "format_number"]

_UNBOUNDED = 1e9
"""Spin-box limit for a number the model leaves unbounded."""
_DECIMALS = 9
_INT_LIMIT = 2**31 - 1
_LIST_SEPARATORS = re.compile(r"[,;\s]+")

OnChange = Callable[[], None]


def format_number(value: float) -> str:
    """``500.0`` -> ``'500'``, ``0.1`` -> ``'0.1'``: numbers as a person writes them."""
    text = f"{value:.{_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class NumberSpinBox(QDoubleSpinBox):
    """A double spin box that shows ``500`` rather than ``500.000000000``.

    Nine decimals keep what a flow file says (``0.1``, ``12.5``) exactly, while the text
    drops trailing zeros. The C locale matches the decimal point of YAML files.
    """

    def __init__(self, bounds: Bounds, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setLocale(QLocale.c())
        self.setDecimals(_DECIMALS)
        low, high = bounds.lowest, bounds.highest
        self.setRange(-_UNBOUNDED if low is None else low, _UNBOUNDED if high is None else high)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        _calm_wheel(self)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return format_number(value)


def _calm_wheel(spin: QAbstractSpinBox) -> None:
    """Only a focused spin box takes the wheel, so scrolling the form changes nothing."""
    spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    spin.setMinimumWidth(140)


class FieldEditor(ABC):
    """Edits one parameter: ``widget`` goes in the form, ``value()`` reads it back.

    ``on_change`` is called when the user changes the value, never by :meth:`set_value`.
    """

    def __init__(self, widget: QWidget, on_change: OnChange) -> None:
        self.widget = widget
        self._on_change = on_change
        self._quiet = False

    @abstractmethod
    def value(self) -> Any:
        """The value as typed; ``ValueError`` (message for the user) if it is not one."""

    def set_value(self, value: Any) -> None:
        self._quiet = True
        try:
            self._show(value)
        finally:
            self._quiet = False

    @abstractmethod
    def _show(self, value: Any) -> None:
        """Put ``value`` in the widget (signals from it are ignored meanwhile)."""

    def _changed(self, *_: object) -> None:
        if not self._quiet:
            self._on_change()


class _FloatEditor(FieldEditor):
    def __init__(self, spec: ParamSpec, on_change: OnChange) -> None:
        self.spin = NumberSpinBox(spec.bounds)
        super().__init__(self.spin, on_change)
        self.spin.valueChanged.connect(self._changed)

    def value(self) -> float:
        return float(self.spin.value())

    def _show(self, value: Any) -> None:
        self.spin.setValue(float(value))


class _IntEditor(FieldEditor):
    def __init__(self, spec: ParamSpec, on_change: OnChange) -> None:
        self.spin = QSpinBox()
        low, high = spec.bounds.lowest, spec.bounds.highest
        self.spin.setRange(
            -_INT_LIMIT if low is None else math.ceil(low),
            _INT_LIMIT if high is None else math.floor(high),
        )
        _calm_wheel(self.spin)
        super().__init__(self.spin, on_change)
        self.spin.valueChanged.connect(self._changed)

    def value(self) -> int:
        return int(self.spin.value())

    def _show(self, value: Any) -> None:
        self.spin.setValue(int(value))


class _BoolEditor(FieldEditor):
    def __init__(self, spec: ParamSpec, on_change: OnChange) -> None:
        self.box = QCheckBox()
        super().__init__(self.box, on_change)
        self.box.toggled.connect(self._changed)

    def value(self) -> bool:
        return self.box.isChecked()

    def _show(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class _ChoiceEditor(FieldEditor):
    def __init__(self, spec: ParamSpec, on_change: OnChange) -> None:
        self.choices = spec.choices
        self.combo = QComboBox()
        self.combo.addItems([str(choice) for choice in self.choices])
        super().__init__(self.combo, on_change)
        self.combo.currentIndexChanged.connect(self._changed)

    def value(self) -> Any:
        return self.choices[self.combo.currentIndex()]

    def _show(self, value: Any) -> None:
        self.combo.setCurrentIndex(self.choices.index(value) if value in self.choices else 0)


class _TextEditor(FieldEditor):
    """Free text (``str`` fields) or, for any other type, a YAML value such as ``[1, 2]``."""

    def __init__(self, spec: ParamSpec, on_change: OnChange) -> None:
        self.yaml = spec.kind != "text"
        self.line = QLineEdit()
        if self.yaml:
            self.line.setPlaceholderText("a YAML value, e.g. [1, 2] or {a: 1}")
        super().__init__(self.line, on_change)
        self.line.textChanged.connect(self._changed)

    def value(self) -> Any:
        if not self.yaml:
            return self.line.text()
        try:
            return yaml.safe_load(self.line.text())
        except yaml.YAMLError as exc:
            raise ValueError(f"not a valid YAML value: {exc}") from None

    def _show(self, value: Any) -> None:
        if not self.yaml:
            self.line.setText(str(value))
            return
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000)
        self.line.setText(text.removesuffix("\n...\n").strip())


class _FloatListEditor(FieldEditor):
    """Numbers separated by commas or spaces: ``2000, 2500, 3100``."""

    def __init__(self, spec: ParamSpec, on_change: OnChange) -> None:
        self.line = QLineEdit()
        self.line.setPlaceholderText("numbers separated by commas, e.g. 2000, 2500")
        super().__init__(self.line, on_change)
        self.line.textChanged.connect(self._changed)

    def value(self) -> list[float]:
        numbers = []
        for token in _LIST_SEPARATORS.split(self.line.text().strip()):
            if not token:
                continue
            try:
                numbers.append(float(token))
            except ValueError:
                raise ValueError(f"{token!r} is not a number") from None
        return numbers

    def _show(self, value: Any) -> None:
        self.line.setText(", ".join(format_number(float(v)) for v in value))


class _FloatTupleEditor(FieldEditor):
    """A fixed number of numbers side by side, e.g. a ``[start, end]`` window."""

    def __init__(self, spec: ParamSpec, on_change: OnChange) -> None:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.spins = [NumberSpinBox(spec.bounds) for _ in range(spec.length or 0)]
        for spin in self.spins:
            row.addWidget(spin)
            spin.valueChanged.connect(self._changed)
        super().__init__(box, on_change)

    def value(self) -> list[float]:
        return [float(spin.value()) for spin in self.spins]

    def _show(self, value: Any) -> None:
        for spin, number in zip(self.spins, value, strict=True):
            spin.setValue(float(number))


class _OptionalEditor(FieldEditor):
    """A check box in front of another editor: unchecked means ``None`` (not set)."""

    def __init__(self, inner: FieldEditor, on_change: OnChange) -> None:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.enabled = QCheckBox()
        self.enabled.setToolTip("Unchecked: not set (null)")
        self.inner = inner
        row.addWidget(self.enabled)
        row.addWidget(inner.widget, 1)
        super().__init__(box, on_change)
        inner.widget.setEnabled(False)
        self.enabled.toggled.connect(self._toggled)

    def value(self) -> Any:
        return self.inner.value() if self.enabled.isChecked() else None

    def _show(self, value: Any) -> None:
        self.enabled.setChecked(value is not None)
        if value is not None:
            self.inner.set_value(value)

    def _toggled(self, checked: bool) -> None:
        self.inner.widget.setEnabled(checked)
        self._changed()


_EDITORS: dict[str, Callable[[ParamSpec, OnChange], FieldEditor]] = {
    "float": _FloatEditor,
    "int": _IntEditor,
    "bool": _BoolEditor,
    "choice": _ChoiceEditor,
    "text": _TextEditor,
    "float_list": _FloatListEditor,
    "float_tuple": _FloatTupleEditor,
    "other": _TextEditor,
}


def make_field_editor(spec: ParamSpec, on_change: OnChange) -> FieldEditor:
    """The editor for ``spec``, wrapped in a "set" check box when ``None`` is allowed."""
    if spec.optional and spec.kind != "other":
        return _OptionalEditor(_EDITORS[spec.kind](spec, on_change), on_change)
    return _EDITORS[spec.kind](spec, on_change)
