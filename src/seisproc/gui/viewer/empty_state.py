"""What an empty plot shows: a line saying why, not axes counting from -0.5 to 0.5.

A pyqtgraph plot with nothing in it keeps its default range of 0 to 1 (or -0.5 to 0.5),
and its axes then read "-500 ... 500 (x0.001)": numbers that mean nothing, in a place
a person looks for data. :class:`EmptyPlotMessage` hides the axes and centres a short
message instead, until the plot has something to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFont

__all__ = ["EmptyPlotMessage"]

_MUTED = "#5f6b7a"


class EmptyPlotMessage:
    """A centred message over ``plot`` (a pyqtgraph ``PlotItem``) with its axes hidden.

    ``axes`` are the sides shown while the plot has data: :meth:`show` hides them,
    :meth:`hide` brings them back.

    >>> empty = EmptyPlotMessage(plot_widget.getPlotItem())      # doctest: +SKIP
    >>> empty.show("Open a SEG-Y file to see its gathers")      # doctest: +SKIP
    """

    def __init__(self, plot: Any, axes: Sequence[str] = ("left", "bottom"),
                 point_size: float | None = None) -> None:
        self._plot = plot
        self._axes = tuple(axes)
        self.text = pg.TextItem("", color=_MUTED, anchor=(0.5, 0.5))
        if point_size is not None:
            font = QFont()
            font.setPointSizeF(point_size)
            self.text.setFont(font)
        plot.addItem(self.text, ignoreBounds=True)
        self.text.hide()

    @property
    def shown(self) -> bool:
        """Whether the plot shows the message (it has no data)."""
        return bool(self.text.isVisible())

    @property
    def message(self) -> str:
        return str(self.text.toPlainText())

    def show(self, message: str) -> None:
        """Hide the axes and centre ``message``; the plot's range becomes 0-1."""
        for side in self._axes:
            self._plot.hideAxis(side)
        self._plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.text.setText(message)
        self.text.setPos(0.5, 0.5)
        self.text.show()

    def hide(self) -> None:
        """Bring the axes back for data; the caller sets the range."""
        self.text.hide()
        for side in self._axes:
            self._plot.showAxis(side)
