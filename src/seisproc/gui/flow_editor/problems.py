"""Widgets that show messages without moving anything around them.

The editor re-validates on every keystroke, so its messages come and go while the user
is typing and clicking. A label that wraps onto a new line, or a list that grows, would
push the fields below it away from the pointer between two clicks. Everything here keeps
the height it was given: a message longer than its room is elided (the whole text is in
the tooltip), and the list of problems scrolls.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

__all__ = [
    "ERROR_COLOUR",
    "OK_COLOUR",
    "ElidedLabel",
    "Problem",
    "ProblemsPanel",
    "set_colour",
    "tinted",
]

ERROR_COLOUR = "#c62828"
"""Red of error messages: readable on light and dark window backgrounds."""
OK_COLOUR = "#2e7d32"

PROBLEM_ROWS = 5
"""Problems visible at once; more scroll."""
_TINT = 0.3
"""How much red a wrong field's box takes: enough to see, light enough to read."""


def set_colour(widget: QWidget, colour: str | None) -> None:
    """Text colour of a label (``None``: the style's). A palette, unlike a style sheet,
    never changes a widget's size."""
    palette = widget.palette()
    default = widget.style().standardPalette().color(QPalette.ColorRole.WindowText)
    palette.setColor(QPalette.ColorRole.WindowText, QColor(colour) if colour else default)
    widget.setPalette(palette)


def tinted(plain: QPalette, wrong: bool) -> QPalette:
    """``plain`` with its box colour (``Base``) reddened when ``wrong``: a field marked in
    any colour scheme, light or dark, without a style sheet that would resize it."""
    palette = QPalette(plain)
    if wrong:
        base = palette.color(QPalette.ColorRole.Base)
        red = QColor(ERROR_COLOUR)
        mixed = [
            round((1 - _TINT) * a + _TINT * b)
            for a, b in (
                (base.red(), red.red()),
                (base.green(), red.green()),
                (base.blue(), red.blue()),
            )
        ]
        palette.setColor(QPalette.ColorRole.Base, QColor(*mixed))
    return palette


class ElidedLabel(QLabel):
    """A label of a fixed number of lines: longer text is cut with "…", whole in the
    tooltip. ``lines > 1`` wraps words inside that height."""

    def __init__(self, lines: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines = lines
        self.setWordWrap(lines > 1)
        self.setFixedHeight(lines * self.fontMetrics().lineSpacing() + 2)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, self.height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(super().sizeHint().width(), self.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        if self._lines > 1:
            super().paintEvent(event)  # wraps; what does not fit is clipped at the bottom
            return
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(
            painter,
            rect,
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            text,
            QPalette.ColorRole.WindowText,
        )


@dataclass(frozen=True)
class Problem:
    """One message of the problem list and where it points to."""

    message: str
    step: int | None = None
    """The step (from 0) the problem is in; ``None``: the flow's own fields."""
    field: str | None = None
    """The field it is about (a parameter, or ``name``/``input``/``output``/``gather_by``)."""


class ProblemsPanel(QWidget):
    """A one-line summary over a list of problems of a fixed height.

    Clicking a problem emits :attr:`problem_clicked`, for the editor to show its field.
    """

    problem_clicked = Signal(object)
    """The :class:`Problem` the user clicked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self.summary = ElidedLabel()
        self.list = QListWidget()
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setIconSize(QSize(16, 16))
        row = max(self.list.fontMetrics().lineSpacing(), 16) + 4
        self.list.setFixedHeight(PROBLEM_ROWS * row + 2 * self.list.frameWidth() + 2)
        self.list.itemClicked.connect(self._clicked)
        column.addWidget(self.summary)
        column.addWidget(self.list)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._problems: list[Problem] = []

    def show_problems(self, problems: list[Problem], valid_text: str) -> None:
        """List ``problems``; with none, say ``valid_text`` in green."""
        self._problems = list(problems)
        self.list.clear()
        if not problems:
            set_colour(self.summary, OK_COLOUR)
            self.summary.setText(valid_text)
            return
        set_colour(self.summary, ERROR_COLOUR)
        count = len(problems)
        self.summary.setText(
            f"{count} problem{'s' if count > 1 else ''} (click one to go to its field):"
        )
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for problem in problems:
            item = QListWidgetItem(icon, problem.message)
            item.setToolTip(problem.message)
            self.list.addItem(item)

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def text(self) -> str:
        """The summary and every message, one per line (what a user reads)."""
        return "\n".join([self.summary.text(), *(p.message for p in self._problems)])

    def _clicked(self, item: QListWidgetItem) -> None:
        self.problem_clicked.emit(self._problems[self.list.row(item)])
