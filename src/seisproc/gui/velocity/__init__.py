"""Velocity analysis in the desktop app: semblance picking with live NMO and Dix
interval velocities (see :mod:`seisproc.gui.velocity.panel`)."""

from seisproc.gui.velocity.opening import choose_velocity_analysis, open_velocity_analysis
from seisproc.gui.velocity.panel import DEFAULT_SCAN, VelocityAnalysisPanel
from seisproc.gui.velocity.picks import PickSet

__all__ = [
    "DEFAULT_SCAN",
    "PickSet",
    "VelocityAnalysisPanel",
    "choose_velocity_analysis",
    "open_velocity_analysis",
]
