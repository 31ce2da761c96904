"""The semblance panel, where velocities are picked with the mouse.

Velocity across, time down. A left click on empty ground adds a pick, a left drag moves
the pick under the cursor (the others stay put), a right click removes it. The picks are
joined by a line; the Dix interval velocities are drawn beside them as a dashed step
curve, so an impossible pick (RMS velocity falling faster than a real layer allows)
shows as a gap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

from seisproc.gui.viewer.section import style_plot

__all__ = ["SemblancePlot", "SEMBLANCE_COLORMAP", "PICK_RADIUS_PX"]

SEMBLANCE_COLORMAP = pg.colormap.get("viridis")
PICK_RADIUS_PX = 8.0
"""How near (pixels) a click must be to a pick to grab or remove it."""


class _PickBox(pg.ViewBox):  # type: ignore[misc]
    """A view box that turns clicks and drags into pick edits instead of pan and zoom."""

    def __init__(self, plot: SemblancePlot) -> None:
        super().__init__()
        self._plot = plot
        self._dragging: int | None = None
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802 (pyqtgraph API)
        velocity, time = self._point(ev.scenePos())
        near = self._plot.pick_near(velocity, time)
        if ev.button() == Qt.MouseButton.LeftButton and near is None:
            self._plot.pick_added.emit(time, velocity)
        elif ev.button() == Qt.MouseButton.RightButton and near is not None:
            self._plot.pick_removed.emit(near)
        ev.accept()

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._dragging = self._plot.pick_near(*self._point(ev.buttonDownScenePos()))
        if self._dragging is None:
            ev.ignore()
            return
        velocity, time = self._point(ev.scenePos())
        self._dragging = self._plot.drag_pick(
            self._dragging, time, velocity, finished=ev.isFinish()
        )
        if ev.isFinish():
            self._dragging = None
        ev.accept()

    def _point(self, scene_pos: QPointF) -> tuple[float, float]:
        point = self.mapSceneToView(scene_pos)
        return float(point.x()), float(point.y())


class SemblancePlot(pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """Semblance of one location with its picks; edits are signalled, not applied: the
    panel owns the picks and calls :meth:`set_picks` back."""

    pick_added = Signal(float, float)
    """``(time_ms, vrms_m_s)`` of a click on empty ground."""
    pick_removed = Signal(int)
    """Time-order place of the pick right-clicked."""
    pick_dragged = Signal(int, float, float, bool)
    """``(place, time_ms, vrms_m_s, finished)`` as a pick is dragged."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.box = _PickBox(self)
        self.plot = self.addPlot(viewBox=self.box)
        style_plot(self.plot)
        self.plot.invertY(True)
        self.plot.setLabel("left", "Time (ms)")
        self.plot.setLabel("bottom", "RMS velocity (m/s)")
        self.plot.setTitle("Semblance", color="#202020")
        self.plot.hideButtons()
        self.plot.addLegend(
            offset=(-8, 8), brush=pg.mkBrush(255, 255, 255, 210), labelTextColor="#202020"
        )
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(SEMBLANCE_COLORMAP)
        self.plot.addItem(self.image)
        self.interval = pg.PlotDataItem(
            pen=pg.mkPen("#ff9e1b", width=2, style=Qt.PenStyle.DashLine),
            connect="finite",
            name="interval (Dix)",
        )
        self.curve = pg.PlotDataItem(
            pen=pg.mkPen("w", width=2),
            symbol="o",
            symbolSize=9,
            symbolBrush="#e8175d",
            symbolPen="w",
            name="picks (RMS)",
        )
        self.plot.addItem(self.interval)
        self.plot.addItem(self.curve)  # named items join the legend
        self._times = np.zeros(0)
        self._velocities = np.zeros(0)

    def set_semblance(
        self, semblance: np.ndarray, times_ms: np.ndarray, velocities_m_s: np.ndarray
    ) -> None:
        """Show a panel ``(n_times, n_velocities)`` on its axes."""
        dv = float(velocities_m_s[1] - velocities_m_s[0]) if velocities_m_s.size > 1 else 1.0
        dt = float(times_ms[1] - times_ms[0]) if times_ms.size > 1 else 1.0
        self.image.setImage(semblance, levels=(0.0, max(float(semblance.max()), 1e-6)))
        self.image.setRect(
            pg.QtCore.QRectF(
                velocities_m_s[0] - dv / 2,
                times_ms[0] - dt / 2,
                dv * velocities_m_s.size,
                dt * times_ms.size,
            )
        )
        self.box.setRange(
            xRange=(velocities_m_s[0], velocities_m_s[-1]),
            yRange=(times_ms[0], times_ms[-1]),
            padding=0,
        )

    def set_picks(
        self, times_ms: np.ndarray, vrms_m_s: np.ndarray, interval_m_s: np.ndarray
    ) -> None:
        """Draw the picks and the interval velocities of the layers above them."""
        self._times, self._velocities = np.asarray(times_ms), np.asarray(vrms_m_s)
        self.curve.setData(self._velocities, self._times)
        if self._times.size:
            tops = np.concatenate([[self._times[0] * 0], self._times[:-1]])
            steps_t = np.column_stack([tops, self._times]).reshape(-1)
            steps_v = np.repeat(interval_m_s, 2)
            self.interval.setData(steps_v, steps_t)
        else:
            self.interval.setData([], [])

    def pick_near(self, vrms_m_s: float, time_ms: float) -> int | None:
        """The pick within :data:`PICK_RADIUS_PX` pixels of a point, if any."""
        if not self._times.size:
            return None
        per_px = self.box.viewPixelSize()  # (m/s, ms) per pixel
        distance = np.hypot(
            (self._velocities - vrms_m_s) / per_px[0], (self._times - time_ms) / per_px[1]
        )
        best = int(np.argmin(distance))
        return best if distance[best] <= PICK_RADIUS_PX else None

    def drag_pick(self, which: int, time_ms: float, vrms_m_s: float, *, finished: bool) -> int:
        """Signal the pick's new place; returns where it will be in time order."""
        self.pick_dragged.emit(which, time_ms, vrms_m_s, finished)
        times = np.delete(self._times, which)
        return int(np.searchsorted(times, time_ms))

    def view_to_widget(self, vrms_m_s: float, time_ms: float) -> Any:
        """Where on the widget (pixels) a velocity and time are drawn: for tests and
        tools that click on the panel."""
        scene = self.box.mapViewToScene(QPointF(vrms_m_s, time_ms))
        return self.mapFromScene(scene)
