"""Screenshot of the live QC strip, for the docs.

Run under a display (Xvfb), from the repository root::

    Xvfb :96 -screen 0 1600x1000x24 & DISPLAY=:96 PYTHONPATH=src \\
        python scripts/screenshots/qc_strip.py

Writes ``docs/images/qc_strip.png``. The figures are measured, not drawn by hand: 240
synthetic shot gathers go through a bandpass that cuts the ground roll (no AGC, so
amplitudes still vary) and :func:`~seisproc.jobs.qc.gather_qc`, as a worker would. The
source strength drifts along the line, two channels die from shot 90 on, and one shot
carries a burst of NaN samples, as a corrupt input record would.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout

from seisproc.gui.qc_strip import QcStrip
from seisproc.io.synth import SurveyGeometry, shot_gather
from seisproc.jobs.qc import JobQc, gather_qc, thumbnail
from seisproc.processing.base import GatherContext
from seisproc.processing.flow import Flow

OUT = Path("docs/images/qc_strip.png")
GEOMETRY = SurveyGeometry(shots=240, channels=96, samples=1001, dt_ms=4.0)
GATHERS_PER_UNIT = 4
FIRST_FFID = 1001


def processed_gathers() -> list[tuple[int, np.ndarray]]:
    """(FFID, processed gather) for every shot of the line."""
    flow = Flow.from_mapping({"name": "qc-demo", "input": "in.sgy", "output": "out.sgy",
                              "steps": [{"bandpass": {"f1": 18, "f2": 25, "f3": 60, "f4": 80}}]})
    processors = flow.processors()
    context = GatherContext(GEOMETRY.dt_ms, GEOMETRY.offsets_m())
    strength = 1.0 + 0.35 * np.sin(np.arange(GEOMETRY.shots) / 17.0) \
        + 0.1 * np.random.default_rng(3).standard_normal(GEOMETRY.shots)
    out = []
    for shot in range(GEOMETRY.shots):
        data = shot_gather(GEOMETRY, shot) * np.float32(strength[shot])
        if shot >= 90:
            data[[17, 58]] = 0.0  # two dead channels
        for processor in processors:
            data = processor.apply(data, context)
        data = np.asarray(data, dtype=np.float32)
        if shot == 171:
            data[40:43, 300:420] = np.nan  # a corrupt record
        out.append((FIRST_FFID + shot, data))
    return out


def job_qc() -> JobQc:
    """The QC a job would hold after processing the line, unit by unit."""
    qc = JobQc()
    gathers = processed_gathers()
    for start in range(0, len(gathers), GATHERS_PER_UNIT):
        unit = gathers[start: start + GATHERS_PER_UNIT]
        figures = [gather_qc(data, GEOMETRY.dt_ms, ffid) for ffid, data in unit]
        last_ffid, last = unit[-1]
        qc = qc.extend(figures, thumbnail(last, GEOMETRY.dt_ms, last_ffid))
    return qc


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    frame = QFrame()
    frame.setStyleSheet("QFrame { background: white; }")
    layout = QVBoxLayout(frame)
    title = QLabel("<b>QC</b> · job 7c41e2a9d0f3 (line-12-bandpass) · running")
    layout.addWidget(title)
    strip = QcStrip()
    layout.addWidget(strip)
    strip.show_qc(job_qc())
    frame.resize(900, 236)
    frame.show()
    timer = QElapsedTimer()
    timer.start()
    while timer.elapsed() < 800:
        app.processEvents()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.grab().save(str(OUT))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
