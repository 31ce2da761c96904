"""The analytics view's charts: a pie, date-axis lines, bars and a scatter, with pyqtgraph.

Each chart is a panel with a title above, the plot, and a legend of Qt labels beside or
below it (never drawn over the data), plus a "no data in this period" note that replaces
the plot when there is nothing to show. Charts know nothing of jobs: they take labels,
numbers and ``#rrggbb`` colours (:class:`~seisproc.analytics.charts.Slice` and
:class:`~seisproc.analytics.charts.Series`, as the HTML report does), so the mapping from
statistics lives in one place (:mod:`seisproc.analytics.figures`).

Plots are read-only: no pan, zoom or context menu, so scrolling the view with the mouse
wheel never zooms a chart by accident. Times are UTC, as the statistics count days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from seisproc.analytics.charts import Series, Slice

__all__ = ["BarChart", "CHART_WIDTH", "ChartPanel", "Legend", "LineChart", "PieChart",
           "ScatterChart", "ScatterGroup", "StackedBarChart"]

CHART_WIDTH = 300
"""The narrowest a chart panel gets (px); the analytics grid fits its columns to it."""

ScatterGroup = tuple[str, str, Sequence[float], Sequence[float]]
"""``(name, #rrggbb, xs, ys)``: one legend entry's points."""


class Legend(QLabel):
    """A colour swatch and a name per entry, wrapping onto more lines when narrow (or one
    entry per line, ``vertical``)."""

    def __init__(self, vertical: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self._separator = "<br>" if vertical else "&nbsp;&nbsp;&nbsp; "
        self._entries: list[str] = []

    def set_entries(self, entries: Sequence[tuple[str, str]]) -> None:
        """Replace the entries with ``(text, #rrggbb)`` pairs."""
        self._entries = [text for text, _ in entries]
        self.setText(self._separator.join(
            f"<span style='color:{color}'>&#9632;</span>&nbsp;"
            f"{escape(text).replace(' ', '&nbsp;')}" for text, color in entries))

    def entries(self) -> list[str]:
        """The texts shown, in order."""
        return list(self._entries)


class ChartPanel(QFrame):
    """A titled frame with a body and a "no data" note that stands in for it."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(CHART_WIDTH, 180)  # three rows fit a 1400x850 window
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.title = QLabel(title)
        self.title.setStyleSheet("font-weight:600;font-size:13px")
        self.title.setWordWrap(True)
        self.body = QWidget()
        self._empty = QLabel("no data in this period")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.body, 1)
        layout.addWidget(self._empty, 1)
        self._show_data(False)

    def sizeHint(self) -> QSize:
        return QSize(420, 250)

    def hasHeightForWidth(self) -> bool:
        # The wrapping legend would make the whole panel height-for-width, and a scroll
        # area then sizes it to its preferred height (a plot's is tall) instead of
        # sharing the visible height between the rows of charts.
        return False

    @property
    def has_data(self) -> bool:
        """Whether the chart shows data (not the "no data" note)."""
        return not self.body.isHidden()

    def _show_data(self, has_data: bool) -> None:
        self.body.setVisible(has_data)
        self._empty.setVisible(not has_data)


class PieChart(ChartPanel):
    """Slices with a legend of label, value and share at their right; zero slices are
    left out. pyqtgraph has no pie item, so the pie is painted."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._canvas = _PieCanvas()
        self.legend = Legend(vertical=True)
        row = QHBoxLayout(self.body)
        row.setContentsMargins(0, 4, 0, 0)
        row.addWidget(self._canvas, 1)
        row.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignVCenter)

    def set_slices(self, slices: Sequence[Slice]) -> None:
        shown = [s for s in slices if s.value > 0]
        total = sum(s.value for s in shown)
        self._canvas.set_slices(shown)
        self.legend.set_entries([
            (f"{s.label}  {s.value:,.0f} ({100 * s.value / total:.1f} %)", s.color)
            for s in shown])
        self._show_data(total > 0)

    def slices(self) -> list[Slice]:
        """The slices drawn, in drawing order (clockwise from 12 o'clock)."""
        return self._canvas.slices


class _PieCanvas(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.slices: list[Slice] = []
        self.setMinimumSize(140, 140)

    def set_slices(self, slices: list[Slice]) -> None:
        self.slices = slices
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, 200)

    def paintEvent(self, event: QPaintEvent) -> None:
        total = sum(s.value for s in self.slices)
        if total <= 0:
            return
        side = min(self.width(), self.height()) - 8
        rect = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Base), 1.5))
        start = 90 * 16  # Qt angles are 1/16 degree, counter-clockwise from 3 o'clock
        for piece in self.slices:
            span = -round(360 * 16 * piece.value / total)
            painter.setBrush(QColor(piece.color))
            painter.drawPie(rect, start, span)
            start += span
        painter.end()


class _PlotPanel(ChartPanel):
    """A read-only pyqtgraph plot with the palette's colours and a legend below."""

    def __init__(self, title: str, *, x_label: str = "", y_label: str = "",
                 axis_items: dict[str, pg.AxisItem] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        base = self.palette().color(QPalette.ColorRole.Base)
        self.text_color = self.palette().color(QPalette.ColorRole.Text)
        self.plot = pg.PlotWidget(background=base, axisItems=axis_items)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        for name, label in (("bottom", x_label), ("left", y_label)):
            axis = self.plot.getAxis(name)
            axis.setPen(self.text_color)
            axis.setTextPen(self.text_color)
            axis.enableAutoSIPrefix(False)
            if label:
                axis.setLabel(label, color=self.text_color.name())
        self.legend = Legend()
        column = QVBoxLayout(self.body)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.plot, 1)
        column.addWidget(self.legend)

    def _clear(self) -> None:
        self.plot.clear()
        self.legend.set_entries([])


class LineChart(_PlotPanel):
    """Lines over time (POSIX seconds, labelled as UTC dates); ``None`` leaves a gap and
    every point carries a dot, so a lone day between gaps still shows."""

    def __init__(self, title: str, *, y_label: str, x_label: str = "day (UTC)",
                 y_max: float | None = None, parent: QWidget | None = None) -> None:
        axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        super().__init__(title, x_label=x_label, y_label=y_label,
                         axis_items={"bottom": axis}, parent=parent)
        self._y_max = y_max
        self._series: dict[str, list[float | None]] = {}

    def set_series(self, xs: Sequence[float], series: Sequence[Series]) -> None:
        self._clear()
        self._series = {}
        for line in series:
            ys = [math.nan if v is None else float(v) for v in line.values]
            self.plot.plot(list(xs), ys, pen=pg.mkPen(line.color, width=2), connect="finite",
                           symbol="o", symbolSize=4, symbolBrush=line.color, symbolPen=None,
                           name=line.name)
            self._series[line.name] = list(line.values)
        self.legend.set_entries([(line.name, line.color) for line in series])
        values = [v for line in series for v in line.values if v is not None]
        if values:
            top = self._y_max if self._y_max is not None else max(max(values), 1) * 1.1
            self.plot.setYRange(0, top, padding=0.05)  # room for the 0 and top labels
            self.plot.setXRange(min(xs), max(xs), padding=0.02)
        self._show_data(bool(values))

    def series(self) -> dict[str, list[float | None]]:
        """Values drawn per series name (``None`` where a line has a gap)."""
        return dict(self._series)


class StackedBarChart(_PlotPanel):
    """One bar per day (x: POSIX seconds of the day's start, labelled as UTC dates),
    stacked from the series in order: the stack's height is their sum."""

    def __init__(self, title: str, *, y_label: str, parent: QWidget | None = None) -> None:
        axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        super().__init__(title, x_label="day (UTC)", y_label=y_label,
                         axis_items={"bottom": axis}, parent=parent)
        self._series: dict[str, list[float | None]] = {}

    def set_series(self, xs: Sequence[float], series: Sequence[Series],
                   width_s: float = 86_400) -> None:
        self._clear()
        centres = [x + width_s / 2 for x in xs]
        base = [0.0] * len(xs)
        for layer in series:
            heights = [float(v or 0) for v in layer.values]
            if any(heights):
                self.plot.addItem(pg.BarGraphItem(x=centres, y0=base, height=heights,
                                                  width=0.8 * width_s, brush=layer.color,
                                                  pen=None))
            base = [b + h for b, h in zip(base, heights, strict=True)]
        self._series = {layer.name: list(layer.values) for layer in series}
        self.legend.set_entries([(layer.name, layer.color) for layer in series])
        top = max(base, default=0.0)
        if top > 0:
            self.plot.setRange(xRange=(min(xs), max(xs) + width_s), yRange=(0, top * 1.08),
                               padding=0.01)
        self._show_data(top > 0)

    def series(self) -> dict[str, list[float | None]]:
        """Values stacked per series name, one per day."""
        return dict(self._series)


class BarChart(_PlotPanel):
    """One bar per label with its value written at the bar's end; vertical bars, or
    horizontal ones (first label on top) for long labels such as processor names."""

    def __init__(self, title: str, *, value_label: str, horizontal: bool = False,
                 colors: Sequence[str] = ("#2f80ed",),
                 value_text: Callable[[float], str] = lambda v: f"{v:,.0f}",
                 scale: Callable[[float], tuple[float, str]] | None = None,
                 parent: QWidget | None = None) -> None:
        labels = {"bottom": "", "left": value_label} if not horizontal else {
            "bottom": value_label, "left": ""}
        super().__init__(title, x_label=labels["bottom"], y_label=labels["left"],
                         parent=parent)
        self._horizontal = horizontal
        self._colors = tuple(colors)
        self._value_text = value_text
        self._scale = scale
        self._value_label = value_label
        self._bars: list[tuple[str, float]] = []
        self.plot.showGrid(x=horizontal, y=not horizontal, alpha=0.15)

    def set_bars(self, bars: Sequence[tuple[str, float]],
                 colors: Sequence[str] | None = None) -> None:
        """``(label, value)`` pairs, values in the unit ``value_text`` formats; one colour
        per bar (default: the chart's colours, in turn)."""
        self._clear()
        self._bars = list(bars)
        self._show_data(bool(bars))
        if not bars:
            return
        divisor, unit = self._scale(max(v for _, v in bars)) if self._scale else (1.0, "")
        if unit:
            axis = "bottom" if self._horizontal else "left"
            self.plot.getAxis(axis).setLabel(f"{self._value_label} ({unit})",
                                             color=self.text_color.name())
        n = len(bars)
        positions = [float(n - 1 - i) if self._horizontal else float(i) for i in range(n)]
        heights = [v / divisor for _, v in bars]
        palette = list(colors) if colors else self._colors
        brushes = [QColor(palette[i % len(palette)]) for i in range(n)]
        if self._horizontal:
            item = pg.BarGraphItem(x0=0, y=positions, height=0.6, width=heights,
                                   brushes=brushes, pen=None)
        else:
            item = pg.BarGraphItem(x=positions, height=heights, width=0.6, brushes=brushes,
                                   pen=None)
        self.plot.addItem(item)
        self._label_bars(bars, positions, heights)

    def _label_bars(self, bars: Sequence[tuple[str, float]], positions: list[float],
                    heights: list[float]) -> None:
        for (_, value), position, height in zip(bars, positions, heights, strict=True):
            anchor = (0, 0.5) if self._horizontal else (0.5, 1)
            text = pg.TextItem(self._value_text(value), color=self.text_color, anchor=anchor)
            text.setPos(*((height, position) if self._horizontal else (position, height)))
            self.plot.addItem(text)
        ticks = [[(p, label) for (label, _), p in zip(bars, positions, strict=True)]]
        self.plot.getAxis("left" if self._horizontal else "bottom").setTicks(ticks)
        categories = (-0.6, len(bars) - 0.4)
        values = (0, (max(heights) or 1.0) * 1.3)  # room past the longest bar for its label
        if self._horizontal:
            self.plot.setRange(xRange=values, yRange=categories, padding=0)
        else:
            self.plot.setRange(xRange=categories, yRange=values, padding=0)

    def bars(self) -> list[tuple[str, float]]:
        """The ``(label, value)`` pairs drawn, in order."""
        return list(self._bars)


class ScatterChart(_PlotPanel):
    """Points in groups (one legend entry each) on log-log axes, with the ``y = x`` line:
    on it a prediction was exact, above it the job took longer than predicted."""

    def __init__(self, title: str, *, x_label: str, y_label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, x_label=x_label, y_label=y_label, parent=parent)
        self.plot.setLogMode(x=True, y=True)
        self._points = 0

    def set_groups(self, groups: Sequence[ScatterGroup]) -> None:
        self._clear()
        values = [v for _, _, xs, ys in groups for v in (*xs, *ys) if v > 0]
        self._points = sum(len(xs) for _, _, xs, _ in groups)
        self._show_data(bool(values))
        if not values:
            return
        low, high = min(values), max(values)
        self.plot.plot([low, high], [low, high], pen=pg.mkPen(
            self.text_color, width=1, style=Qt.PenStyle.DashLine))
        for name, color, xs, ys in groups:
            fill = QColor(color)
            fill.setAlpha(170)
            self.plot.plot(list(xs), list(ys), pen=None, symbol="o", symbolSize=6,
                           symbolBrush=fill, symbolPen=None, name=name)
        self.legend.set_entries([("predicted = actual", self.text_color.name()),
                                 *((name, color) for name, color, _, _ in groups)])
        lo, hi = math.log10(low), math.log10(high)
        margin = max((hi - lo) * 0.05, 0.1)
        self.plot.setRange(xRange=(lo - margin, hi + margin), yRange=(lo - margin, hi + margin),
                           padding=0)

    def point_count(self) -> int:
        """How many points are drawn (the diagonal aside)."""
        return self._points
