"""A one-line label that shortens its text with "…" instead of widening the window.

A ``QLabel`` asks for the width of its whole text, so a long file name or flow
description sets the minimum width of every layout above it: in a dock, that is what
pushed the viewer's controls out of sight. This label asks for a few characters and
draws as much of the text as fits; the whole text stays in :meth:`text` (give it a
tooltip for the person to read it all).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

__all__ = ["ElidedLabel"]


class ElidedLabel(QLabel):
    """``QLabel`` on one line that elides (``…``) rather than asking for its text's width.

    >>> label = ElidedLabel("a-very-long-survey-name.sgy", min_chars=8)  # doctest: +SKIP
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_chars: int = 6,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(text, parent)
        self._min_chars = min_chars
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * self._min_chars, metrics.height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(self.fontMetrics().horizontalAdvance(self.text()) + 4,
                     self.fontMetrics().height())

    def is_elided(self) -> bool:
        """Whether the text is wider than the label (and so drawn cut short)."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), self._mode, rect.width())
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(),
                                  self.isEnabled(), shown, self.foregroundRole())
