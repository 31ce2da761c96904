"""Screenshot of the flow editor: docs/images/flow_editor.png.

A three-step flow (bandpass -> agc -> top_mute) on a small synthetic survey sampled at
4 ms, with the bandpass's f4 raised to 150 Hz, above Nyquist (125 Hz), so the editor shows
how it reports a bad field: f4 marked with its message, the step marked in the list, the
problem listed. Run under a display:

    Xvfb :95 -screen 0 1600x1000x24 & DISPLAY=:95 PYTHONPATH=src python \
        scripts/screenshots/flow_editor.py [output.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication, QDoubleSpinBox

from seisproc.gui.flow_editor import FlowEditor
from seisproc.io.synth import SurveyGeometry, synthesize_survey

FLOW = """\
name: bp-agc-mute
input: shots.sgy
output: shots_bp_agc_mute.sgy
gather_by: ffid
steps:
  - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
  - agc: {window_ms: 500}
  - top_mute: {velocity_m_s: 1800, taper_ms: 40}
"""


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory(prefix="seisproc-shot-") as folder:
        root = Path(folder)
        synthesize_survey(root / "shots.sgy", SurveyGeometry(shots=4, channels=48, samples=501))
        flow_file = root / "bp_agc_mute.yaml"
        flow_file.write_text(FLOW, encoding="utf-8")
        editor = FlowEditor(submit=lambda flow: None, autosave=False)
        editor.resize(1100, 720)
        editor.load(flow_file)
        editor.steps_list.setCurrentRow(0)
        f4 = editor.step_form(0).field_widget("f4")
        assert isinstance(f4, QDoubleSpinBox)
        f4.setValue(150.0)  # the bad field the screenshot shows
        editor.show()
        for _ in range(5):
            app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        editor.grab().save(str(out))
        print(f"wrote {out}; problems: {editor.errors()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images/flow_editor.png"))
