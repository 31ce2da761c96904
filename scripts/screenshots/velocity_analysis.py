"""Screenshot of the velocity-analysis panel: docs/images/velocity_analysis.png.

A synthetic line over the layered earth (``seisproc synth --geology``: flat reflectors, a
dipping one, a diffractor, noise), analysed at CDP 80 with 5-CDP super-gathers; the three
reflectors picked with the mouse at their semblance peaks, so the NMO-corrected gather
shows them flat and the table beside the picks their Dix interval velocities (the earth's
1800, 2200 and 2700 m/s). Run under a display:

    Xvfb :99 -screen 0 1600x1000x24 & DISPLAY=:99 PYTHONPATH=src python \\
        scripts/screenshots/velocity_analysis.py [output.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from seisproc.gui.velocity import VelocityAnalysisPanel
from seisproc.io.synth import SurveyGeometry
from seisproc.io.synth_geology import LayeredEarth, synthesize_imaging_line


def wait_for(signal: object, timeout_ms: int = 120_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    earth = LayeredEarth()
    with tempfile.TemporaryDirectory(prefix="seisproc-shot-") as folder:
        line = synthesize_imaging_line(
            Path(folder) / "line_12.sgy",
            SurveyGeometry(shots=40, channels=96, samples=451),
            earth=earth,
        )
        panel = VelocityAnalysisPanel()
        panel.resize(1500, 760)
        panel.show()
        panel.open_line(line, [60, 80, 100])
        wait_for(panel.location_shown)
        panel.next_location()
        wait_for(panel.location_shown)
        semblance = panel._data.semblance
        for time_ms in earth.zero_offset_times_ms():  # each reflector's semblance peak
            row = int(np.argmin(np.abs(panel._data.times_ms - time_ms)))
            vrms = panel._data.velocities_m_s[int(np.argmax(semblance[row]))]
            at = panel.semblance.view_to_widget(vrms, panel._data.times_ms[row])
            QTest.mouseClick(panel.semblance.viewport(), Qt.MouseButton.LeftButton, pos=at)
            wait_for(panel.corrected_shown)
        for _ in range(10):
            app.processEvents()
        panel.grab().save(str(out))
        panel.shutdown()


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[2] / "docs" / "images" / "velocity_analysis.png"
    )
