"""The gather viewer: SEG-Y gathers as variable density or wiggles, and a flow's effect
on them (before, after, difference, spectra) and a parameter test, computed off the GUI
thread."""

from seisproc.gui.viewer.frame import GatherFrame, load_frame
from seisproc.gui.viewer.gather_viewer import GATHER_KEYS, GatherViewer
from seisproc.gui.viewer.parameter_test import ParameterTestPanel
from seisproc.gui.viewer.runner import LatestRequestRunner
from seisproc.gui.viewer.section import SEISMIC_COLORMAP, SectionView, WiggleItem
from seisproc.gui.viewer.spectrum import SpectrumView

__all__ = [
    "GATHER_KEYS",
    "GatherFrame",
    "GatherViewer",
    "LatestRequestRunner",
    "ParameterTestPanel",
    "SEISMIC_COLORMAP",
    "SectionView",
    "SpectrumView",
    "WiggleItem",
    "load_frame",
]
