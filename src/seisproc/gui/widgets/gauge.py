"""A round percentage gauge: a 270-degree arc, the value in its centre, a title under it.

The arc turns amber and red past two thresholds, which the resource monitor sets to the
default alert rules' levels, so a gauge turns red when the matching alert fires. An
optional second value draws as a thin inner arc (a GPU's memory under its utilisation).

>>> gauge = Gauge("CPU")                     # doctest: +SKIP
>>> gauge.set_value(42.4)                    # doctest: +SKIP
>>> gauge.text()                             # doctest: +SKIP
'CPU 42 %'
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["Gauge"]

_START_DEG, _SPAN_DEG = 225, -270
"""Qt angles count counter-clockwise from 3 o'clock: from 7:30 clockwise to 4:30."""
_OK, _WARN, _ALARM = QColor("#2e9d5b"), QColor("#e0a21b"), QColor("#d64541")
_SECONDARY = QColor("#9b59b6")
_TRACK = QColor("#e3e7ec")
_MUTED = QColor("#5f6b7a")


class Gauge(QWidget):
    """A labelled percentage (0-100) with colour thresholds.

    Parameters
    ----------
    title
        What it measures, under the arc and in :meth:`text` (``"CPU"``, ``"GPU 0"``).
    warn_at, alarm_at
        Percentages from which the arc is amber, then red.
    secondary_label
        Name of the inner arc's value in :meth:`text` (``"memory"``); no inner arc
        without one.
    """

    def __init__(self, title: str, *, warn_at: float = 85.0, alarm_at: float = 95.0,
                 secondary_label: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self._warn_at, self._alarm_at = warn_at, alarm_at
        self._secondary_label = secondary_label
        self._value: float | None = None
        self._secondary: float | None = None
        self._detail = ""
        self.setMinimumSize(132, 150)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._refresh_accessible_text()

    # ------------------------------------------------------------------ state
    def set_value(self, percent: float | None, detail: str = "",
                  secondary: float | None = None) -> None:
        """Show ``percent`` (``None``: unknown, drawn as ``-``), a detail line under the
        title, and the inner arc's ``secondary`` percentage."""
        self._value = None if percent is None else max(0.0, min(100.0, float(percent)))
        self._secondary = None if secondary is None else max(0.0, min(100.0, secondary))
        self._detail = detail
        self._refresh_accessible_text()
        self.update()

    def value(self) -> float | None:
        return self._value

    def secondary_value(self) -> float | None:
        return self._secondary

    def title(self) -> str:
        return self._title

    def detail(self) -> str:
        return self._detail

    def text(self) -> str:
        """Everything the gauge says in one line: ``"Memory 61 % · 9.8 of 16.0 GB"``."""
        parts = [f"{self._title} {_percent(self._value)}"]
        if self._secondary_label and self._secondary is not None:
            parts.append(f"{self._secondary_label} {_percent(self._secondary)}")
        if self._detail:
            parts.append(self._detail)
        return " · ".join(parts)

    def color(self) -> QColor:
        """The arc's colour now: green, amber past ``warn_at``, red past ``alarm_at``."""
        if self._value is None or self._value < self._warn_at:
            return QColor(_OK)
        return QColor(_WARN if self._value < self._alarm_at else _ALARM)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(150, 156)

    def _refresh_accessible_text(self) -> None:
        text = self.text()
        self.setToolTip(text)
        self.setAccessibleName(self._title)
        self.setAccessibleDescription(text)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        second = self._secondary_label is not None and self._secondary is not None
        text_h = 2 * self.fontMetrics().height() + 4
        side = min(self.width() - 8, self.height() - text_h - 4)
        ring = QRectF((self.width() - side) / 2, 4, side, side)
        thickness = max(6.0, side / 10)
        arc = ring.adjusted(thickness / 2, thickness / 2, -thickness / 2, -thickness / 2)
        self._arc(painter, arc, thickness, _TRACK, 100.0)
        if self._value is not None:
            self._arc(painter, arc, thickness, self.color(), self._value)
        if self._secondary_label and self._secondary is not None:
            inner = arc.adjusted(thickness * 1.4, thickness * 1.4,
                                 -thickness * 1.4, -thickness * 1.4)
            self._arc(painter, inner, thickness / 2, _TRACK, 100.0)
            self._arc(painter, inner, thickness / 2, _SECONDARY, self._secondary)
        self._centre_text(painter, arc)
        # the arc is open at the bottom: the caption tucks into the gap, unless the inner
        # arc's value sits there
        self._caption(painter, ring.bottom() - (thickness / 3 if second else thickness))
        painter.end()

    @staticmethod
    def _arc(painter: QPainter, rect: QRectF, width: float, color: QColor,
             percent: float) -> None:
        pen = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.drawArc(rect, _START_DEG * 16, int(_SPAN_DEG * 16 * percent / 100))

    def _centre_text(self, painter: QPainter, arc: QRectF) -> None:
        """The value, and under it the inner arc's value in the inner arc's colour."""
        second = self._secondary_label and self._secondary is not None
        font = QFont(self.font())
        font.setPixelSize(max(12, int(arc.height() / (5.2 if second else 4.2))))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(arc, Qt.AlignmentFlag.AlignCenter, _percent(self._value))
        if second:  # in the opening at the bottom of the arcs
            small = QFont(self.font())
            small.setPixelSize(max(9, int(arc.height() / 8)))
            painter.setFont(small)
            painter.setPen(_SECONDARY)
            below = QRectF(arc.left(), arc.center().y() + arc.height() * 0.3, arc.width(),
                           arc.height() / 5)
            painter.drawText(below, Qt.AlignmentFlag.AlignCenter,
                             f"{self._secondary_label} {_percent(self._secondary)}")

    def _caption(self, painter: QPainter, top: float) -> None:
        line = self.fontMetrics().height()
        title_font = QFont(self.font())
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(QRectF(0, top, self.width(), line), Qt.AlignmentFlag.AlignCenter,
                         self._title)
        painter.setFont(self.font())
        painter.setPen(_MUTED)
        detail = self.fontMetrics().elidedText(self._detail, Qt.TextElideMode.ElideRight,
                                               self.width() - 4)
        painter.drawText(QRectF(0, top + line + 2, self.width(), line),
                         Qt.AlignmentFlag.AlignCenter, detail)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} %"
