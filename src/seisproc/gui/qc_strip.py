"""The live QC strip of a job: is the data still sane while the job runs?

One row for a job dashboard's details pane: RMS amplitude and dominant frequency per
gather as small charts over the last gathers processed, the job's dead-trace and NaN/Inf
counts (red once above zero: the figures that mean "stop and look"), and the last
processed gather as a thumbnail in the gather viewer's blue-white-red colour map. It
draws a :class:`~seisproc.jobs.qc.JobQc` and keeps none: the host feeds it
``manager.qc(job_id)`` whenever a ``UNIT_COMPLETED`` event arrives (through the bridge),
a few times a second at most.

>>> strip = QcStrip()                 # doctest: +SKIP
>>> strip.show_qc(manager.qc(job_id))  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QTransform
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from seisproc.gui.palette import STATE_HEX, series_color
from seisproc.gui.viewer.section import SEISMIC_COLORMAP, style_plot
from seisproc.jobs.model import JobState
from seisproc.jobs.qc import GatherQc, JobQc, Thumbnail

__all__ = ["QcStrip"]

_MUTED = "#5f6b7a"
_ALERT = STATE_HEX[JobState.FAILED]
_OK = "#202020"
_PLOT_HEIGHT = 62


class QcStrip(QWidget):
    """Live QC of one job (see the module docstring); :meth:`show_qc` redraws it.

    Attributes used by tests and hosts: ``rms_plot`` and ``hz_plot`` (pyqtgraph plot
    widgets), ``image`` (the thumbnail's ``ImageItem``), and the counters' labels
    ``gathers_label``, ``dead_label``, ``non_finite_label``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rms_plot, self._rms_curve = _sparkline(series_color(0))
        self._bad_points = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(_ALERT))
        self.rms_plot.addItem(self._bad_points)
        self.hz_plot, self._hz_curve = _sparkline(series_color(2))
        self.gathers_label = _value_label()
        self.dead_label = _value_label()
        self.non_finite_label = _value_label()
        self.last_label = _caption("", Qt.AlignmentFlag.AlignLeft)
        self.thumbnail_view = pg.GraphicsLayoutWidget()
        self.thumbnail_view.setBackground("w")
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(SEISMIC_COLORMAP)
        self._thumbnail_plot = self._thumbnail_area()
        self.thumbnail_caption = _caption("", Qt.AlignmentFlag.AlignCenter)
        self._lay_out()
        self.show_qc(JobQc())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(760, 176)

    # ------------------------------------------------------------------ content
    def show_qc(self, qc: JobQc) -> None:
        """Draw ``qc``: the series of its kept gathers, its totals, its thumbnail."""
        first = qc.gathers_seen - len(qc.gathers)
        index = np.arange(first, qc.gathers_seen, dtype=float) + 1
        rms = np.array([g.rms for g in qc.gathers], dtype=float)
        hz = np.array([np.nan if g.dominant_hz is None else g.dominant_hz
                       for g in qc.gathers], dtype=float)
        self._rms_curve.setData(index, rms)
        self._hz_curve.setData(index, hz, connect="finite")
        bad = np.array([g.non_finite > 0 for g in qc.gathers], dtype=bool)
        self._bad_points.setData(index[bad], rms[bad])
        if index.size:
            for plot in (self.rms_plot, self.hz_plot):
                plot.setXRange(index[0], max(index[-1], index[0] + 1), padding=0)
        self.gathers_label.setText(f"{qc.gathers_seen:,}")
        _set_count(self.dead_label, qc.dead_traces)
        _set_count(self.non_finite_label, qc.non_finite)
        self.last_label.setText(_last_text(qc.last))
        self._show_thumbnail(qc.thumbnail, qc)

    def clear(self) -> None:
        """Show an empty strip (no job selected)."""
        self.show_qc(JobQc())

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The drawn series (gather number, value): ``rms``, ``dominant_hz``, ``non_finite``
        (the gathers marked red)."""
        def data(item: pg.GraphicsObject) -> tuple[np.ndarray, np.ndarray]:
            x, y = item.getData()
            empty = np.empty(0)
            return (empty if x is None else np.asarray(x)), (empty if y is None else
                                                             np.asarray(y))

        return {"rms": data(self._rms_curve), "dominant_hz": data(self._hz_curve),
                "non_finite": data(self._bad_points)}

    # ------------------------------------------------------------------ drawing
    def _show_thumbnail(self, picture: Thumbnail | None, qc: JobQc) -> None:
        if picture is None or picture.data.size == 0:
            self.image.clear()
            self.thumbnail_caption.setText("no gather yet")
            return
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


def _sparkline(color: object) -> tuple[pg.PlotWidget, pg.PlotDataItem]:
    """A small chart: gathers along x (no axis), values on a compact left axis."""
    widget = pg.PlotWidget(background=None)
    plot = widget.getPlotItem()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    plot.hideAxis("bottom")
    plot.getViewBox().setDefaultPadding(0.12)  # keeps the end tick labels inside
    style_plot(plot)
    left = plot.getAxis("left")
    left.setWidth(40)
    left.setStyle(tickFont=_small_font(), tickLength=-3)
    widget.setFixedHeight(_PLOT_HEIGHT)
    widget.setMinimumWidth(180)
    curve = widget.plot([], [], pen=pg.mkPen(color, width=1.4))
    return widget, curve


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
