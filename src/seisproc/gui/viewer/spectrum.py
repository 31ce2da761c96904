"""Average amplitude spectrum of the gather before and after the flow, on one plot.

Both curves are in dB relative to their own peak (see
:func:`seisproc.processing.preview.amplitude_spectrum`), so a gain that scales the whole
gather does not shift its curve and what a filter removes shows as a change of shape.

The key to the curves sits in the title line, outside the data: a legend box inside the
plot hid whatever the curves did behind it (above 105 Hz, in its top-right corner).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from seisproc.gui.viewer.empty_state import EmptyPlotMessage
from seisproc.gui.viewer.section import style_plot
from seisproc.processing.preview import SPECTRUM_FLOOR_DB

__all__ = ["SpectrumView"]

_BEFORE_HEX = "#4a4a4a"
_AFTER_HEX = "#d62728"
_LOWEST_SHOWN_DB = -80.0
"""Bottom of the level axis: deeper than this is noise floor and squeezes the curves."""
_TITLE = "Average amplitude spectrum"


def _key(name: str, colour: str) -> str:
    """A curve's entry in the title: a line in its colour, then its name."""
    return (f"<span style='color:{colour}; font-weight:bold'>&#9473;&#9473;</span>"
            f"&nbsp;{name}")


class SpectrumView(pg.PlotWidget):  # type: ignore[misc]
    """Frequency (Hz) against level (dB re peak): "Before" always, "After" with a flow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        plot = self.getPlotItem()
        style_plot(plot)
        plot.setMenuEnabled(False)
        plot.setLabel("bottom", "Frequency (Hz)")
        plot.setLabel("left", "Amplitude (dB re peak)")
        plot.showGrid(x=True, y=True, alpha=0.25)
        self.before_curve = pg.PlotDataItem(pen=pg.mkPen(_BEFORE_HEX, width=2), name="Before")
        self.after_curve = pg.PlotDataItem(pen=pg.mkPen(_AFTER_HEX, width=2), name="After")
        plot.addItem(self.before_curve)
        plot.addItem(self.after_curve)
        self.empty = EmptyPlotMessage(plot)
        self.clear_spectra()

    @property
    def title(self) -> str:
        """The title line as rich text, with the key to the curves shown."""
        return str(self.getPlotItem().titleLabel.text)

    def set_spectra(self, freqs_hz: np.ndarray, before_db: np.ndarray,
                    after_db: np.ndarray | None = None) -> None:
        """Show the spectra; ``after_db`` ``None`` leaves only the "Before" curve."""
        self.empty.hide()
        self.before_curve.setData(freqs_hz, before_db)
        if after_db is None:
            self.after_curve.setData([], [])
        else:
            self.after_curve.setData(freqs_hz, after_db)
        self._title_for(after_db is not None)
        lowest = max(_LOWEST_SHOWN_DB, SPECTRUM_FLOOR_DB)
        plot = self.getPlotItem()
        plot.setXRange(0, float(freqs_hz[-1]) if len(freqs_hz) else 1.0, padding=0.01)
        plot.setYRange(lowest, 3, padding=0)

    def clear_spectra(self) -> None:
        """No gather: no curves, no axes, a line saying what will show here."""
        self.before_curve.setData([], [])
        self.after_curve.setData([], [])
        self.getPlotItem().setTitle(_TITLE, color="#202020", size="11pt")
        self.empty.show("The spectrum of the gather shown")

    def _title_for(self, with_after: bool) -> None:
        keys = [_key("Before", _BEFORE_HEX)]
        if with_after:
            keys.append(_key("After", _AFTER_HEX))
        self.getPlotItem().setTitle(f"{_TITLE} &nbsp;&nbsp; " + " &nbsp; ".join(keys),
                                    color="#202020", size="11pt")
