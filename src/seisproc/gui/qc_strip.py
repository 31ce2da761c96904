"""The live QC strip of a job: is the data still sane while the job runs?

One row for a job dashboard's details pane: RMS amplitude and dominant frequency per
gather as small charts over the last gathers processed, the job's dead-trace and NaN/Inf
counts (red once above zero: the figures that mean "stop and look"), and the last
processed gather as a thumbnail in the gather viewer's blue-white-red colour map. It
draws a :class:`~seisproc.jobs.qc.JobQc` and keeps none: the host feeds it
``manager.qc(job_id)`` whenever a ``UNIT_COMPLETED`` event arrives (through the bridge),
a few times a second at most.

The charts run along the gathers' header values (FFID, CDP: the job's gather key), the
way a QC plot of a line is read; a gather processed again (a resumed job) shows its last
figures. Clicking a point, or the thumbnail, asks for that gather (``gather_clicked``):
the main window opens it in the gather viewer.

>>> strip = QcStrip()                 # doctest: +SKIP
>>> strip.show_qc(manager.qc(job_id))  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QCursor, QFont, QTransform
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from seisproc.gui.palette import STATE_HEX, series_color
from seisproc.gui.viewer.empty_state import EmptyPlotMessage
from seisproc.gui.viewer.section import SEISMIC_COLORMAP, style_plot
from seisproc.jobs.model import JobState
from seisproc.jobs.qc import GatherQc, JobQc, Thumbnail

__all__ = ["QcStrip"]

_MUTED = "#5f6b7a"
_ALERT = STATE_HEX[JobState.FAILED]
_OK = "#202020"
_PLOT_HEIGHT = 62
_AXIS_HEIGHT = 30
"""The lower chart's gather axis: tick values and its title."""
_CLICK_PX = 12
"""How far (pixels, along the gather axis) a click may land from a point and pick it."""
_CLICK_TIP = "Click a gather to open it in the gather viewer"


class QcStrip(QWidget):
    """Live QC of one job (see the module docstring); :meth:`show_qc` redraws it.

    Attributes used by tests and hosts: ``rms_plot`` and ``hz_plot`` (pyqtgraph plot
    widgets), ``image`` (the thumbnail's ``ImageItem``), and the counters' labels
    ``gathers_label``, ``dead_label``, ``non_finite_label``.

    ``gather_clicked(int)``: the header value of the gather the person clicked.
    """

    gather_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keys = np.empty(0)
        self._thumbnail_key: int | None = None
        self.rms_plot, self._rms_curve = _sparkline(series_color(0))
        self._bad_points = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(_ALERT))
        self.rms_plot.addItem(self._bad_points)
        self.hz_plot, self._hz_curve = _sparkline(series_color(2), gather_axis=True)
        self._empty = (EmptyPlotMessage(self.rms_plot.getPlotItem(), ("left",), 8.0),
                       EmptyPlotMessage(self.hz_plot.getPlotItem(), ("left", "bottom"), 8.0))
        for plot in (self.rms_plot, self.hz_plot):
            plot.scene().sigMouseClicked.connect(
                lambda event, chart=plot: self._chart_clicked(chart, event))
        self.gathers_label = _value_label()
        self.dead_label = _value_label()
        self.non_finite_label = _value_label()
        self.last_label = _caption("", Qt.AlignmentFlag.AlignLeft)
        self.thumbnail_view = pg.GraphicsLayoutWidget()
        self.thumbnail_view.setBackground("w")
        self.thumbnail_view.scene().sigMouseClicked.connect(self._thumbnail_clicked)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(SEISMIC_COLORMAP)
        self._thumbnail_plot = self._thumbnail_area()
        self._no_thumbnail = EmptyPlotMessage(self._thumbnail_plot, ("left",))
        self.thumbnail_caption = _caption("", Qt.AlignmentFlag.AlignCenter)
        self._lay_out()
        self.show_qc(JobQc())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(760, 176 + _AXIS_HEIGHT)

    # ------------------------------------------------------------------ content
    def show_qc(self, qc: JobQc) -> None:
        """Draw ``qc``: the series of its kept gathers, its totals, its thumbnail."""
        gathers = _by_header_value(qc.gathers)
        keys = np.array([g.key_value for g in gathers], dtype=float)
        rms = np.array([g.rms for g in gathers], dtype=float)
        hz = np.array([np.nan if g.dominant_hz is None else g.dominant_hz
                       for g in gathers], dtype=float)
        self._keys = keys
        self._rms_curve.setData(keys, rms)
        self._hz_curve.setData(keys, hz, connect="finite")
        bad = np.array([g.non_finite > 0 for g in gathers], dtype=bool)
        self._bad_points.setData(keys[bad], rms[bad])
        self._show_range(keys)
        self.gathers_label.setText(f"{qc.gathers_seen:,}")
        _set_count(self.dead_label, qc.dead_traces)
        _set_count(self.non_finite_label, qc.non_finite)
        self.last_label.setText(_last_text(qc.last))
        self._show_thumbnail(qc.thumbnail, qc)

    def clear(self) -> None:
        """Show an empty strip (no job selected)."""
        self.show_qc(JobQc())

    def chart_message(self) -> str:
        """What the charts say instead of axes when there is nothing to draw; "" with data."""
        empty = self._empty[0]
        return empty.message if empty.shown else ""

    def point_position(self, key_value: int, chart: str = "rms") -> QPointF:
        """Where gather ``key_value`` is drawn on chart ``"rms"`` or ``"hz"``, in that
        chart's widget coordinates (for a click, or a pointer over it)."""
        plot = self.rms_plot if chart == "rms" else self.hz_plot
        curve = self._rms_curve if chart == "rms" else self._hz_curve
        x, y = curve.getData()
        value = float(np.nan_to_num(y[int(np.flatnonzero(x == key_value)[0])]))
        scene = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(key_value, value))
        return QPointF(plot.mapFromScene(scene))

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The drawn series (gather header value, value): ``rms``, ``dominant_hz``,
        ``non_finite`` (the gathers marked red)."""
        def data(item: pg.GraphicsObject) -> tuple[np.ndarray, np.ndarray]:
            x, y = item.getData()
            empty = np.empty(0)
            return (empty if x is None else np.asarray(x)), (empty if y is None else
                                                             np.asarray(y))

        return {"rms": data(self._rms_curve), "dominant_hz": data(self._hz_curve),
                "non_finite": data(self._bad_points)}

    # ------------------------------------------------------------------ clicks
    def _chart_clicked(self, chart: pg.PlotWidget, event: object) -> None:
        """A left click near a point (along the gather axis) asks for that gather."""
        if event.button() != Qt.MouseButton.LeftButton or not self._keys.size:  # type: ignore[attr-defined]
            return
        box = chart.getPlotItem().getViewBox()
        scene_pos = event.scenePos()  # type: ignore[attr-defined]
        if not box.sceneBoundingRect().contains(scene_pos):
            return
        nearest = float(self._keys[np.argmin(np.abs(self._keys
                                                   - box.mapSceneToView(scene_pos).x()))])
        if abs(box.mapViewToScene(QPointF(nearest, 0)).x() - scene_pos.x()) <= _CLICK_PX:
            self.gather_clicked.emit(int(nearest))

    def _thumbnail_clicked(self, event: object) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._thumbnail_key is not None:  # type: ignore[attr-defined]
            self.gather_clicked.emit(self._thumbnail_key)

    # ------------------------------------------------------------------ drawing
    def _show_range(self, keys: np.ndarray) -> None:
        """The charts span the gathers drawn; with none, they say so instead of axes."""
        for empty, message in zip(self._empty, ("no gathers processed yet", ""), strict=True):
            if keys.size:
                empty.hide()
            else:
                empty.show(message)
        if keys.size:
            span = max(keys[-1] - keys[0], 1.0)
            for plot in (self.rms_plot, self.hz_plot):
                plot.setXRange(keys[0] - 0.01 * span, keys[-1] + 0.01 * span, padding=0)
                plot.getPlotItem().enableAutoRange(axis="y")

    def _show_thumbnail(self, picture: Thumbnail | None, qc: JobQc) -> None:
        self._thumbnail_key = None if picture is None else picture.key_value
        self.thumbnail_view.setToolTip("" if picture is None else _CLICK_TIP)
        if picture is None or picture.data.size == 0:
            self.image.clear()
            self._no_thumbnail.show("")
            self.thumbnail_caption.setText("no gather yet")
            return
        self._no_thumbnail.hide()
        traces, samples = picture.data.shape
        self.image.setImage(picture.data, autoLevels=False, levels=(-1.0, 1.0))
        transform = QTransform()
        transform.scale(1.0, picture.dt_ms)
        self.image.setTransform(transform)
        self._thumbnail_plot.setRange(xRange=(0, traces), yRange=(0, samples * picture.dt_ms),
                                      padding=0)
        size = next((g.traces for g in reversed(qc.gathers)
                     if g.key_value == picture.key_value), None)
        self.thumbnail_caption.setText(f"last gather {picture.key_value}"
                                       + (f" · {size} traces" if size else ""))

    def _thumbnail_area(self) -> pg.PlotItem:
        plot = self.thumbnail_view.addPlot()
        style_plot(plot)
        plot.addItem(self.image)
        plot.invertY(True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.hideAxis("bottom")
        plot.getAxis("left").setWidth(46)
        plot.getAxis("left").setStyle(tickFont=_small_font(), tickLength=-3)
        plot.setLabel("left", "ms", **{"font-size": "7pt"})
        self.thumbnail_view.setFixedSize(180, 136)
        self.thumbnail_view.ci.setContentsMargins(0, 8, 4, 2)
        return plot

    def _lay_out(self) -> None:
        charts = QVBoxLayout()
        charts.setSpacing(0)
        for title, plot in (("RMS amplitude per gather (red: NaN/Inf)", self.rms_plot),
                            ("Dominant frequency per gather (Hz)", self.hz_plot)):
            charts.addWidget(_caption(title, Qt.AlignmentFlag.AlignLeft))
            charts.addWidget(plot)
        counters = QGridLayout()
        counters.setVerticalSpacing(2)
        for row, (name, label) in enumerate((("Gathers", self.gathers_label),
                                             ("Dead traces", self.dead_label),
                                             ("NaN / Inf", self.non_finite_label))):
            counters.addWidget(_caption(name, Qt.AlignmentFlag.AlignLeft), row, 0)
            counters.addWidget(label, row, 1)
        counters.addWidget(self.last_label, 3, 0, 1, 2)
        counters.setRowStretch(4, 1)
        picture = QVBoxLayout()
        picture.setSpacing(0)
        picture.addWidget(self.thumbnail_view)
        picture.addWidget(self.thumbnail_caption)
        strip = QHBoxLayout(self)
        strip.setContentsMargins(4, 4, 4, 4)
        strip.setSpacing(12)
        strip.addLayout(charts, 1)
        strip.addLayout(counters)
        strip.addLayout(picture)


def _sparkline(color: object, gather_axis: bool = False) -> tuple[pg.PlotWidget,
                                                                    pg.PlotDataItem]:
    """A small chart: values on a compact left axis; gathers along x, with their header
    values on an axis below when ``gather_axis`` (the lower chart; the upper one follows
    it)."""
    widget = pg.PlotWidget(background=None)
    plot = widget.getPlotItem()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    plot.getViewBox().setDefaultPadding(0.12)  # keeps the end tick labels inside
    style_plot(plot)
    left = plot.getAxis("left")
    left.setWidth(40)
    left.setStyle(tickFont=_small_font(), tickLength=-3)
    if gather_axis:
        bottom = plot.getAxis("bottom")
        bottom.setStyle(tickFont=_small_font(), tickLength=-3)
        bottom.setLabel("gather (header value)", **{"font-size": "7pt", "color": _MUTED})
        bottom.setHeight(_AXIS_HEIGHT)
    else:
        plot.hideAxis("bottom")
    widget.setFixedHeight(_PLOT_HEIGHT + (_AXIS_HEIGHT if gather_axis else 0))
    widget.setMinimumWidth(180)
    widget.setToolTip(_CLICK_TIP)
    widget.viewport().setCursor(QCursor(Qt.CursorShape.PointingHandCursor))
    curve = widget.plot([], [], pen=pg.mkPen(color, width=1.4))
    return widget, curve


def _by_header_value(gathers: tuple[GatherQc, ...]) -> list[GatherQc]:
    """One entry per gather, its latest figures, in header-value order."""
    latest = {g.key_value: g for g in gathers}
    return [latest[key] for key in sorted(latest)]


def _small_font() -> QFont:
    font = QFont()
    font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.5))
    return font


def _caption(text: str, align: Qt.AlignmentFlag) -> QLabel:
    label = QLabel(text)
    label.setFont(_small_font())
    label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    label.setStyleSheet(f"color: {_MUTED}")
    return label


def _value_label() -> QLabel:
    label = QLabel()
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return label


def _set_count(label: QLabel, count: int) -> None:
    """``count`` in the label, red (the alert colour) once above zero."""
    label.setText(f"{count:,}")
    label.setStyleSheet(f"color: {_ALERT if count > 0 else _OK}")
    label.setProperty("alert", count > 0)


def _last_text(last: GatherQc | None) -> str:
    if last is None:
        return "no QC yet"
    hz = "-" if last.dominant_hz is None else f"{last.dominant_hz:.0f} Hz"
    return f"last: RMS {last.rms:.3g}, {hz}"
