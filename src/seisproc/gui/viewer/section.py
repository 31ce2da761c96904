"""A seismic section: one gather as variable density or as wiggles, time down the page.

Variable density is an image in a blue-white-red colour map, clipped symmetrically at
``±clip`` so zero is white and the sign of a reflection reads from its colour. Wiggles are
drawn as two painter paths for the whole gather (the trace lines, and the positive lobes
filled black), built with numpy in one go, so a few hundred traces redraw in milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QWidget

from seisproc.gui.viewer.empty_state import EmptyPlotMessage

__all__ = ["SEISMIC_COLORMAP", "SectionView", "WiggleItem", "DISPLAY_MODES", "style_plot"]

DISPLAY_MODES = ("density", "wiggle")

SEISMIC_COLORMAP = pg.ColorMap(
    pos=[0.0, 0.25, 0.5, 0.75, 1.0],
    color=[(0, 0, 77), (0, 0, 255), (255, 255, 255), (255, 0, 0), (128, 0, 0)],
    name="seismic",
)
"""Dark blue (most negative) through white (zero) to dark red (most positive)."""

_INK = "#202020"
_COLORBAR_WIDTH = 95
"""Pixels for the colour bar with its label and tick values (``-0.025``)."""


def style_plot(plot: Any) -> None:
    """Dark text and axes on a light background: seismic displays are read on white."""
    for side in ("left", "bottom", "top", "right"):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(_INK))
        axis.setTextPen(pg.mkPen(_INK))


class WiggleItem(pg.GraphicsObject):  # type: ignore[misc]
    """Wiggle traces with filled positive lobes, for a whole gather at once.

    A trace at ``x`` swings to ``x ± spacing`` at ``±clip`` and is clipped beyond, so
    neighbouring traces touch but never cross by more than one trace spacing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._line = QPainterPath()
        self._fill = QPainterPath()
        self._pen = QPen(Qt.GlobalColor.black)
        self._pen.setCosmetic(True)
        self._pen.setWidth(0)
        self._brush = QBrush(Qt.GlobalColor.black)

    def set_traces(self, data: np.ndarray, x_positions: np.ndarray, times_ms: np.ndarray,
                   clip: float, spacing: float) -> None:
        """Draw ``data`` ``(n_traces, n_samples)``, trace ``i`` centred on ``x_positions[i]``."""
        self.prepareGeometryChange()
        n_traces, n_samples = data.shape
        swing = np.clip(np.nan_to_num(data / clip), -1.0, 1.0) * spacing
        base = np.asarray(x_positions, dtype=np.float64)[:, None]
        times = np.broadcast_to(times_ms, (n_traces, n_samples))
        breaks = np.ones((n_traces, n_samples), dtype=np.int32)
        breaks[:, -1] = 0
        self._line = pg.arrayToQPath((base + swing).ravel(), times.ravel(), breaks.ravel())
        # One closed outline per trace: baseline at both ends, the positive half between;
        # filled with the winding rule so lobes overlapping the next trace stay black.
        fill_x = np.concatenate([base, base + np.maximum(swing, 0.0), base], axis=1)
        ends = np.array([times_ms[0]]), np.array([times_ms[-1]])
        fill_t = np.broadcast_to(np.concatenate([ends[0], times_ms, ends[1]]),
                                 fill_x.shape)
        fill_breaks = np.ones(fill_x.shape, dtype=np.int32)
        fill_breaks[:, -1] = 0
        self._fill = pg.arrayToQPath(fill_x.ravel(), fill_t.ravel(), fill_breaks.ravel())
        self._fill.setFillRule(Qt.FillRule.WindingFill)
        self.update()

    def clear(self) -> None:
        self.prepareGeometryChange()
        self._line = QPainterPath()
        self._fill = QPainterPath()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._line.boundingRect().united(self._fill.boundingRect())

    def paint(self, painter: QPainter, *args: Any) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._brush)
        painter.drawPath(self._fill)
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._line)


class SectionView(pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """One panel: a gather in variable density or wiggles, with a colour bar.

    ``trace_hovered(trace, time_ms)`` follows the cursor: the 0-based trace nearest to it
    and the time under it.
    """

    trace_hovered = Signal(int, float)

    def __init__(self, title: str, parent: QWidget | None = None,
                 amplitude_label: str = "Amplitude") -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.title = title
        self.plot = self.addPlot()
        style_plot(self.plot)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "Time (ms)")
        self.plot.setLabel("bottom", "Trace")
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(SEISMIC_COLORMAP)
        self.plot.addItem(self.image)
        self.wiggle = WiggleItem()
        self.plot.addItem(self.wiggle)
        self.colorbar = pg.ColorBarItem(colorMap=SEISMIC_COLORMAP, interactive=False,
                                        width=14, label=amplitude_label,
                                        colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        style_plot(self.colorbar)
        # A long title must not squeeze the colour bar's tick labels out of sight.
        self.colorbar.setMinimumWidth(_COLORBAR_WIDTH)
        self._mode = "density"
        self._data: np.ndarray | None = None
        self._x = np.zeros(0)
        self._dt_ms = 1.0
        self._clip = 1.0
        self._extent: tuple[float, ...] = ()
        self.empty = EmptyPlotMessage(self.plot)
        self._refit_timer = QTimer(self)
        """Owned by the view: deleted with it, so a refit queued just before the view is
        deleted never fires into a dead widget (a bare ``singleShot`` would)."""
        self._refit_timer.setSingleShot(True)
        self._refit_timer.setInterval(0)
        self._refit_timer.timeout.connect(self._refit)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.blank()

    # --- content ------------------------------------------------------------------
    @property
    def clip(self) -> float:
        """The amplitude at which the display saturates (``±clip``)."""
        return self._clip

    @property
    def mode(self) -> str:
        return self._mode

    def set_section(self, data: np.ndarray, x_positions: np.ndarray, x_label: str,
                    sample_interval_ms: float, clip: float, subtitle: str = "") -> None:
        """Show ``data`` ``(n_traces, n_samples)``; ``clip`` > 0 saturates the display."""
        self._data = np.asarray(data, dtype=np.float32)
        self._x = np.asarray(x_positions, dtype=np.float64)
        self._dt_ms = sample_interval_ms
        self._clip = clip
        self.plot.setLabel("bottom", x_label)
        self._set_title(subtitle)
        if self.empty.shown:
            self.empty.hide()
            # The axes come back once the layout runs; linked panels map their ranges by
            # on-screen height, so fit again then.
            self._refit_timer.start()
        self._render()
        self._fit_range()

    def set_clip(self, clip: float, subtitle: str = "") -> None:
        self._clip = clip
        self._set_title(subtitle)
        self._render()

    def set_display(self, mode: str) -> None:
        """``"density"`` (colour image) or ``"wiggle"`` (filled positive lobes)."""
        if mode not in DISPLAY_MODES:
            raise ValueError(f"display must be one of {DISPLAY_MODES}; got {mode!r}")
        self._mode = mode
        self._render()

    def blank(self, message: str = "") -> None:
        """Show nothing but the title and ``message``, centred where the gather was."""
        self._data = None
        self._extent = ()
        self.image.clear()
        self.wiggle.clear()
        self.colorbar.setVisible(False)
        self._set_title("")
        self.empty.show(message)

    def trace_at(self, x: float) -> int:
        """The 0-based trace drawn nearest to ``x``; -1 with nothing shown."""
        if self._data is None or not len(self._x):
            return -1
        return int(np.argmin(np.abs(self._x - x)))

    # --- drawing ------------------------------------------------------------------
    def _spacing(self) -> float:
        steps = np.abs(np.diff(self._x))
        return float(np.median(steps)) if steps.size else 1.0

    def _render(self) -> None:
        data = self._data
        if data is None:
            return
        density = self._mode == "density"
        self.image.setVisible(density)
        self.colorbar.setVisible(density)
        self.wiggle.setVisible(not density)
        if density:
            self.image.setImage(data, autoLevels=False)
            self.colorbar.setLevels((-self._clip, self._clip))
            self.image.setTransform(self._image_transform())
        else:
            times = np.arange(data.shape[1]) * self._dt_ms
            self.wiggle.set_traces(data, self._x, times, self._clip, self._spacing())

    def _image_transform(self) -> QTransform:
        """Pixel ``(i, j)`` centred on ``(x_positions[i], j * dt)``."""
        n = len(self._x)
        step = (self._x[-1] - self._x[0]) / (n - 1) if n > 1 else 1.0
        transform = QTransform()
        transform.translate(self._x[0] - step / 2, -self._dt_ms / 2)
        transform.scale(step, self._dt_ms)
        return transform

    def _fit_range(self) -> None:
        """Show the whole gather when its extent changes; keep the zoom otherwise."""
        if self._data is None:
            return
        half = self._spacing() / 2
        extent = (float(self._x.min()) - half, float(self._x.max()) + half,
                  -self._dt_ms / 2, (self._data.shape[1] - 0.5) * self._dt_ms)
        if extent != self._extent:
            self._extent = extent
            self.plot.setRange(xRange=extent[:2], yRange=extent[2:], padding=0)

    def _refit(self) -> None:
        if self._data is not None and self._extent:
            self.plot.setRange(xRange=self._extent[:2], yRange=self._extent[2:], padding=0)

    def _set_title(self, subtitle: str) -> None:
        text = f"{self.title} · {subtitle}" if subtitle else self.title
        self.plot.setTitle(text, color=_INK, size="10pt")

    # --- cursor -------------------------------------------------------------------
    def _mouse_moved(self, scene_pos: QPointF) -> None:
        box = self.plot.vb
        if self._data is None or not box.sceneBoundingRect().contains(scene_pos):
            return
        point = box.mapSceneToView(scene_pos)
        self.hover(point.x(), point.y())

    def hover(self, x: float, time_ms: float) -> None:
        """Report the trace nearest ``x`` at ``time_ms``, as the cursor there would."""
        trace = self.trace_at(x)
        if trace >= 0:
            self.trace_hovered.emit(trace, float(time_ms))
