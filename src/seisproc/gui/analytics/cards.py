"""Summary cards: the few numbers a person looks at first, large, in a row.

The cards are the HTML report's (:func:`seisproc.analytics.figures.summary_figures`):
total jobs, success rate and average duration first, then traces and bytes processed and
how far duration predictions were off.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

__all__ = ["SummaryCard", "SummaryCards"]


class SummaryCard(QFrame):
    """One figure: a small caption above a large value."""

    def __init__(self, caption: str, value: str = "-", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel(caption)
        self.caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.value = QLabel(value)
        self.value.setStyleSheet("font-size:22px;font-weight:600")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set_figure(self, caption: str, value: str) -> None:
        self.caption.setText(caption)
        self.value.setText(value)


class SummaryCards(QWidget):
    """A row of :class:`SummaryCard`, one per ``(caption, value)`` figure."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(10)
        self._cards: list[SummaryCard] = []

    def set_figures(self, figures: Sequence[tuple[str, str]]) -> None:
        """Show these figures, reusing the cards already there."""
        while len(self._cards) < len(figures):
            card = SummaryCard("")
            self._row.addWidget(card, 1)
            self._cards.append(card)
        for card, (caption, value) in zip(self._cards, figures, strict=False):
            card.set_figure(caption, value)
        for i, card in enumerate(self._cards):
            card.setVisible(i < len(figures))

    def figures(self) -> dict[str, str]:
        """Caption → value of the cards shown."""
        return {card.caption.text(): card.value.text() for card in self._cards
                if not card.isHidden()}
