"""Opening the velocity panel from the main window (File > Velocity Analysis…).

The panel lives in a dock of its own, made the first time it is asked for and tabbed
with the gather viewer; later opens reuse it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMessageBox

from seisproc.errors import SeisprocError
from seisproc.gui.velocity.panel import VelocityAnalysisPanel

if TYPE_CHECKING:  # the window imports this module on first use, not the other way
    from seisproc.gui.main_window import MainWindow

__all__ = ["choose_velocity_analysis", "open_velocity_analysis", "DOCK_NAME"]

DOCK_NAME = "velocity_analysis"
"""The dock's object name (its key in the saved window layout)."""


def choose_velocity_analysis(window: MainWindow, folder: str = "") -> VelocityAnalysisPanel | None:
    """Ask for a panels file (``seisproc velan`` without ``--auto``) or a SEG-Y line."""
    path, _ = QFileDialog.getOpenFileName(
        window,
        "Open velocity analysis",
        folder,
        "Velocity panels or SEG-Y (*.npz *.sgy *.segy *.SGY *.SEGY);;All files (*)",
    )
    return open_velocity_analysis(window, Path(path)) if path else None


def open_velocity_analysis(window: MainWindow, path: Path) -> VelocityAnalysisPanel | None:
    """Show ``path`` in the window's velocity panel, making the panel's dock if needed;
    a file that cannot be opened is told in a message box."""
    panel = window.findChild(VelocityAnalysisPanel)
    if panel is None:
        panel = VelocityAnalysisPanel()
        window.tabifyDockWidget(
            window.viewer_dock,
            window.add_dock(
                "Velocity Analysis", panel, DOCK_NAME, Qt.DockWidgetArea.LeftDockWidgetArea
            ),
        )
    dock = window.findChild(QDockWidget, DOCK_NAME)
    try:
        if path.suffix.lower() == ".npz":
            panel.open_panels(path)
        else:
            panel.open_line(path)
    except (SeisprocError, OSError) as exc:
        QMessageBox.warning(window, "Cannot open for velocity analysis", str(exc))
        return None
    if dock is not None:
        dock.show()
        dock.raise_()
    return panel
