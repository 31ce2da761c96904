"""Screenshots of the gather viewer for the documentation.

Writes docs/images/viewer_vd.png, viewer_wiggle.png and viewer_before_after.png from a
synthetic 96-channel survey (hyperbolic reflections, ground roll, direct wave) and a
bandpass + AGC flow. Run under a virtual display:

    Xvfb :94 -screen 0 1600x1000x24 &
    DISPLAY=:94 PYTHONPATH=src python scripts/screenshots/viewer.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
SIZE = (1400, 850)


def _wait(app: object, done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the viewer did not finish in time")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def _settle(app: object, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="seisproc-viewer-shots-"))
    os.environ["SEISPROC_HOME"] = str(work / "home")
    from PySide6.QtWidgets import QApplication

    from seisproc.gui.viewer import GatherViewer
    from seisproc.io.synth import SurveyGeometry, synthesize_survey
    from seisproc.processing import Flow

    survey = synthesize_survey(work / "line.sgy",
                               SurveyGeometry(shots=8, channels=96, samples=1001, dt_ms=4.0))
    flow = Flow.from_mapping({
        "name": "bandpass-agc", "input": str(survey), "output": str(work / "out.sgy"),
        "gather_by": "ffid",
        "steps": [{"bandpass": {"f1": 12, "f2": 18, "f3": 50, "f4": 70}},
                  {"agc": {"window_ms": 500}}],
    })
    app = QApplication.instance() or QApplication(sys.argv)
    viewer = GatherViewer()
    viewer.resize(*SIZE)
    viewer.show()
    viewer.open_file(survey)
    viewer.set_clip_percentile(97.0)
    viewer.show_gather(3)
    _wait(app, lambda: viewer.current_frame is not None and viewer.current_frame.gather == 3)
    viewer.show_trace_headers(30, 1200.0)
    IMAGES.mkdir(parents=True, exist_ok=True)
    _settle(app)
    viewer.grab().save(str(IMAGES / "viewer_vd.png"))
    viewer.set_display("wiggle")
    _settle(app)
    viewer.grab().save(str(IMAGES / "viewer_wiggle.png"))
    viewer.set_display("density")
    viewer.set_flow(flow)
    _wait(app, lambda: viewer.current_frame is not None
          and viewer.current_frame.after is not None)
    viewer.show_trace_headers(30, 1200.0)
    _settle(app)
    viewer.grab().save(str(IMAGES / "viewer_before_after.png"))
    viewer.close()
    for name in ("viewer_vd.png", "viewer_wiggle.png", "viewer_before_after.png"):
        print(IMAGES / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
