"""A small pyqtgraph chart of the last minutes: percentages against seconds ago.

The x axis is *age* (``-300`` is five minutes ago, ``0`` the latest sample), so the chart
scrolls by itself as samples arrive and needs no wall clock. The y range is fixed at
0-100 with faint lines at 0, 50 and 100, so two sparklines side by side compare at a
glance. Mouse interaction is off: it is a glance, not an analysis tool.

>>> line = Sparkline(window_s=300)                           # doctest: +SKIP
>>> line.add_series("cpu", "#2f80ed", fill=True)             # doctest: +SKIP
>>> line.set_series("cpu", [-2.0, -1.0, 0.0], [10, 35, 20])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

__all__ = ["Sparkline"]

_MUTED = "#5f6b7a"
_GRID = "#d5dbe1"


class Sparkline(QWidget):
    """One or a few series over the last ``window_s`` seconds, with a caption row
    ("-5 min", "0-100 %", "now") under the plot: pyqtgraph hides or clips tick labels that
    sit on the plot's edges, which is where a sparkline's only labels belong.

    Parameters
    ----------
    window_s
        Seconds of history shown, ending at the latest sample.
    y_max
        Top of the fixed y range (100 for percentages).
    unit
        Unit of the values, for the caption.
    """

    def __init__(self, window_s: float = 300.0, *, y_max: float = 100.0, unit: str = "%",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._window_s = window_s
        self._curves: dict[str, pg.PlotDataItem] = {}
        self.plot_widget = pg.PlotWidget(background=None)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.getViewBox().setDefaultPadding(0.0)
        for level in (0.0, y_max / 2, y_max):
            plot.addItem(pg.InfiniteLine(level, angle=0, pen=pg.mkPen(_GRID, width=1)))
        self.plot_widget.setYRange(0, y_max, padding=0)
        self.plot_widget.setFixedHeight(64)
        self._oldest = _caption()
        self._range = _caption(f"0-{y_max:g} {unit}", Qt.AlignmentFlag.AlignCenter)
        self._newest = _caption("now", Qt.AlignmentFlag.AlignRight)
        captions = QHBoxLayout()
        captions.setContentsMargins(0, 0, 0, 0)
        for label in (self._oldest, self._range, self._newest):
            captions.addWidget(label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot_widget)
        layout.addLayout(captions)
        self.set_window(window_s)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(180, 82)

    def window_s(self) -> float:
        return self._window_s

    def set_window(self, window_s: float) -> None:
        """Show the last ``window_s`` seconds."""
        self._window_s = window_s
        self.plot_widget.setXRange(-window_s, 0, padding=0)
        self._oldest.setText(_age_label(window_s))

    def captions(self) -> tuple[str, str, str]:
        """The caption row's texts, left to right."""
        return self._oldest.text(), self._range.text(), self._newest.text()

    def add_series(self, name: str, color: QColor | str, *, fill: bool = False) -> None:
        """Add an empty series drawn in ``color`` (filled down to zero with ``fill``)."""
        qcolor = QColor(color)
        pen = pg.mkPen(qcolor, width=1.6)
        if fill:
            brush = QColor(qcolor)
            brush.setAlpha(50)
            curve = self.plot_widget.plot([], [], pen=pen, fillLevel=0, brush=brush)
        else:
            curve = self.plot_widget.plot([], [], pen=pen)
        self._curves[name] = curve

    def has_series(self, name: str) -> bool:
        return name in self._curves

    def set_series(self, name: str, ages_s: Sequence[float], values: Sequence[float]) -> None:
        """Replace the series' points: ``ages_s`` in seconds, negative and ascending."""
        self._curves[name].setData(np.asarray(ages_s, dtype=float),
                                   np.asarray(values, dtype=float))

    def series_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The series' ages and values as drawn (for tests and tooltips)."""
        x, y = self._curves[name].getData()
        empty = np.empty(0)
        return (empty if x is None else x), (empty if y is None else y)


def _caption(text: str = "", align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    label.setAlignment(align | Qt.AlignmentFlag.AlignTop)
    label.setStyleSheet(f"color: {_MUTED}")
    return label


def _age_label(window_s: float) -> str:
    minutes = window_s / 60
    return f"-{minutes:.0f} min" if window_s >= 120 else f"-{window_s:.0f} s"
