"""Summary cards: the few numbers a person looks at first, large, in a row (or two, or
three, when the view is narrow: they wrap rather than widen it).

The cards are the HTML report's (:func:`seisproc.analytics.figures.summary_figures`):
total jobs, success rate and average duration first, then traces and bytes processed and
how far duration predictions were off.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from seisproc.gui.analytics.layout import ReflowGrid

__all__ = ["CARD_WIDTH", "SummaryCard", "SummaryCards"]

CARD_WIDTH = 130
"""The narrowest a card gets (px): its caption and a value such as ``46,975,598``."""


class SummaryCard(QFrame):
    """One figure: a small caption above a large value."""

    def __init__(self, caption: str, value: str = "-", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel(caption)
        self.caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        # No word wrap: a height-for-width card would make the scroll area size the
        # charts to their preferred height instead of the view's (see ChartPanel).
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.value = QLabel(value)
        self.value.setStyleSheet("font-size:16px;font-weight:600")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set_figure(self, caption: str, value: str) -> None:
        self.caption.setText(caption)
        self.caption.setToolTip(caption)  # clipped in a narrow card
        self.value.setText(value)


class SummaryCards(ReflowGrid):
    """:class:`SummaryCard` s, one per ``(caption, value)`` figure, in as many columns as
    the width given to :meth:`~ReflowGrid.reflow` holds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(CARD_WIDTH, max_columns=6, parent=parent)
        self._cards: list[SummaryCard] = []

    def set_figures(self, figures: Sequence[tuple[str, str]]) -> None:
        """Show these figures, reusing the cards already there."""
        while len(self._cards) < len(figures):
            card = SummaryCard("")
            card.setMinimumWidth(CARD_WIDTH)
            self.add(card)
            self._cards.append(card)
        for card, (caption, value) in zip(self._cards, figures, strict=False):
            card.set_figure(caption, value)
        for i, card in enumerate(self._cards):
            card.setVisible(i < len(figures))

    def figures(self) -> dict[str, str]:
        """Caption → value of the cards shown."""
        return {card.caption.text(): card.value.text() for card in self._cards
                if not card.isHidden()}
