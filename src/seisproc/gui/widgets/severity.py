"""How a severity looks: one colour and one painted icon per level, shared by toasts and alerts.

Toasts know five levels (``info``, ``success``, ``warning``, ``error``, ``critical``);
alerts three (:class:`~seisproc.alerts.rules.Severity`), whose values are the same words,
and a resolved alert reads as a success. Icons are painted shapes, not font glyphs or
theme icons, so they look the same on every platform and under Xvfb.

>>> severity_color("warning").name()
'#e0a21b'
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from seisproc.alerts.rules import Alert, AlertStatus, Severity

__all__ = [
    "SEVERITIES",
    "alert_severity",
    "normalize_severity",
    "paint_severity_icon",
    "severity_color",
    "severity_label",
    "severity_pixmap",
    "severity_rank",
]

SEVERITIES: tuple[str, ...] = ("info", "success", "warning", "error", "critical")
"""Every level a toast takes, least to most urgent."""


@dataclass(frozen=True)
class _Style:
    hex: str
    label: str
    rank: int
    """Urgency: the alert badge shows the colour of the highest rank firing."""


_STYLES: dict[str, _Style] = {
    "info": _Style("#2f80ed", "Info", 1),
    "success": _Style("#2e9d5b", "Success", 0),
    "warning": _Style("#e0a21b", "Warning", 2),
    "error": _Style("#d64541", "Error", 3),
    "critical": _Style("#a61b1b", "Critical", 4),
}


def normalize_severity(severity: str | Severity) -> str:
    """``severity`` as one of :data:`SEVERITIES`; raises ``ValueError`` naming the choices."""
    name = str(severity).strip().lower()
    if name not in _STYLES:
        raise ValueError(f"unknown severity {severity!r}: use one of {', '.join(SEVERITIES)}")
    return name


def alert_severity(alert: Alert) -> str:
    """The toast level of an alert: its own severity, ``success`` once resolved."""
    if alert.status is AlertStatus.RESOLVED:
        return "success"
    return normalize_severity(alert.severity)


def severity_color(severity: str | Severity) -> QColor:
    """A new ``QColor`` per call (``QColor`` is mutable, see :mod:`seisproc.gui.palette`)."""
    return QColor(_STYLES[normalize_severity(severity)].hex)


def severity_label(severity: str | Severity) -> str:
    return _STYLES[normalize_severity(severity)].label


def severity_rank(severity: str | Severity) -> int:
    """0 for success up to 4 for critical."""
    return _STYLES[normalize_severity(severity)].rank


def paint_severity_icon(painter: QPainter, rect: QRectF, severity: str | Severity) -> None:
    """Paint the level's icon into ``rect``: a disc (a triangle for warnings) in the level's
    colour with a white mark: ``i``, a tick, ``!`` or a cross."""
    name = normalize_severity(severity)
    side = min(rect.width(), rect.height())
    box = QRectF(0, 0, side, side)
    box.moveCenter(rect.center())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(severity_color(name))
    if name == "warning":
        painter.drawPolygon(QPolygonF([QPointF(box.center().x(), box.top()),
                                       box.bottomRight(), box.bottomLeft()]))
    else:
        painter.drawEllipse(box)
    pen = QPen(QColor("white"), max(1.5, side / 9), Qt.PenStyle.SolidLine,
               Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    _paint_mark(painter, box, name)
    painter.restore()


_STROKES: dict[str, tuple[float, float, float]] = {
    "info": (0.46, 0.74, 0.29), "critical": (0.24, 0.56, 0.75), "warning": (0.38, 0.64, 0.8)}
"""Stem top, stem bottom and dot height, as fractions of the icon: ``i`` and ``!``."""


def _paint_mark(painter: QPainter, box: QRectF, name: str) -> None:
    x, y, s = box.x(), box.y(), box.width()
    path = QPainterPath()
    if name == "success":
        path.moveTo(x + 0.28 * s, y + 0.52 * s)
        path.lineTo(x + 0.44 * s, y + 0.68 * s)
        path.lineTo(x + 0.72 * s, y + 0.36 * s)
    elif name == "error":
        path.moveTo(x + 0.33 * s, y + 0.33 * s)
        path.lineTo(x + 0.67 * s, y + 0.67 * s)
        path.moveTo(x + 0.67 * s, y + 0.33 * s)
        path.lineTo(x + 0.33 * s, y + 0.67 * s)
    else:
        top, bottom, dot = _STROKES[name]
        path.moveTo(x + 0.5 * s, y + top * s)
        path.lineTo(x + 0.5 * s, y + bottom * s)
        painter.drawPoint(QPointF(x + 0.5 * s, y + dot * s))
    painter.drawPath(path)


def severity_pixmap(severity: str | Severity, size: int = 16) -> QPixmap:
    """The icon as a pixmap, for item views (a list row's decoration)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_severity_icon(painter, QRectF(0.5, 0.5, size - 1, size - 1), severity)
    painter.end()
    return pixmap
