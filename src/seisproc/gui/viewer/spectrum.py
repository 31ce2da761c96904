"""Average amplitude spectrum of the gather before and after the flow, on one plot.

Both curves are in dB relative to their own peak (see
:func:`seisproc.processing.preview.amplitude_spectrum`), so a gain that scales the whole
gather does not shift its curve and what a filter removes shows as a change of shape.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from seisproc.gui.viewer.section import style_plot
from seisproc.processing.preview import SPECTRUM_FLOOR_DB

__all__ = ["SpectrumView"]

_BEFORE_PEN = pg.mkPen("#4a4a4a", width=2)
_AFTER_PEN = pg.mkPen("#d62728", width=2)
_LOWEST_SHOWN_DB = -80.0
"""Bottom of the level axis: deeper than this is noise floor and squeezes the curves."""


class SpectrumView(pg.PlotWidget):  # type: ignore[misc]
    """Frequency (Hz) against level (dB re peak): "Before" always, "After" with a flow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        plot = self.getPlotItem()
        style_plot(plot)
        plot.setMenuEnabled(False)
        plot.setTitle("Average amplitude spectrum", color="#202020", size="11pt")
        plot.setLabel("bottom", "Frequency (Hz)")
        plot.setLabel("left", "Amplitude (dB re peak)")
        plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = plot.addLegend(offset=(-10, 5), labelTextColor="#202020", colCount=2,
                                     brush=pg.mkBrush(255, 255, 255, 220))
        self.before_curve = pg.PlotDataItem(pen=_BEFORE_PEN, name="Before")
        self.after_curve = pg.PlotDataItem(pen=_AFTER_PEN, name="After")
        plot.addItem(self.before_curve)
        plot.addItem(self.after_curve)
        plot.setYRange(_LOWEST_SHOWN_DB, 3, padding=0)

    def set_spectra(self, freqs_hz: np.ndarray, before_db: np.ndarray,
                    after_db: np.ndarray | None = None) -> None:
        """Show the spectra; ``after_db`` ``None`` leaves only the "Before" curve."""
        self.before_curve.setData(freqs_hz, before_db)
        if after_db is None:
            self.after_curve.setData([], [])
        else:
            self.after_curve.setData(freqs_hz, after_db)
        self._legend_for(after_db is not None)
        lowest = max(_LOWEST_SHOWN_DB, SPECTRUM_FLOOR_DB)
        plot = self.getPlotItem()
        plot.setXRange(0, float(freqs_hz[-1]) if len(freqs_hz) else 1.0, padding=0.01)
        plot.setYRange(lowest, 3, padding=0)

    def clear_spectra(self) -> None:
        self.before_curve.setData([], [])
        self.after_curve.setData([], [])
        self._legend_for(False)

    def _legend_for(self, with_after: bool) -> None:
        self.legend.clear()
        self.legend.addItem(self.before_curve, "Before")
        if with_after:
            self.legend.addItem(self.after_curve, "After")
