"""Flows and small actions shared by the flow-editor tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QMessageBox, QSpinBox

from seisproc.gui.flow_editor import FlowEditor

THREE_STEPS = """\
name: bp-agc-mute
input: {input}
output: {output}
gather_by: ffid
device: cpu
steps:
  - bandpass: {{f1: 5, f2: 10, f3: 60, f4: 80}}
  - agc: {{window_ms: 500, mode: mean_abs}}
  - top_mute: {{velocity_m_s: 1800, taper_ms: 40}}
"""

EVERY_KIND = """\
name: every-kind
input: shots.sgy
output: out.sgy
gather_by: cdp
steps:
  - butterworth: {high_hz: 40, order: 6}
  - normalize: {method: max, window_ms: [100, 900.5]}
  - spherical_divergence: {velocities_m_s: [1500, 2500.25], times_ms: [0, 1200]}
  - spiking_decon: {operator_ms: 80, prewhitening_percent: 0.1}
  - tpow: {}
"""


def write_flow(folder: Path, text: str, name: str = "flow.yaml", **paths: Any) -> Path:
    path = folder / name
    path.write_text(text.format(**paths) if paths else text, encoding="utf-8")
    return path


def spin(editor: FlowEditor, step: int, field: str) -> QDoubleSpinBox | QSpinBox:
    """The spin box of ``field`` in step ``step`` (0-based)."""
    widget = editor.step_form(step).field_widget(field)
    assert isinstance(widget, QDoubleSpinBox | QSpinBox), widget
    return widget


def select_step(editor: FlowEditor, step: int) -> None:
    editor.steps_list.setCurrentRow(step)


def type_into(qtbot, widget, text: str) -> None:
    """Replace the widget's text the way a user does: focus, select all, type."""
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def answer_next_prompt(
    button: QMessageBox.StandardButton, seen: list[str] | None = None, tries: int = 200
) -> list[str]:
    """Click ``button`` of the next message box once it is up (it blocks the caller in
    ``exec``). The returned list gets the box's text, its informative text, the text of
    the button clicked and the texts of the buttons that could be clicked, joined by
    ``|``."""
    seen = [] if seen is None else seen

    def answer(left: int) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if left:
                QTimer.singleShot(20, lambda: answer(left - 1))
            return
        chosen = box.button(button)
        enabled = "|".join(b.text().replace("&", "") for b in box.buttons() if b.isEnabled())
        seen.extend([box.text(), box.informativeText(), chosen.text(), enabled])
        chosen.click()

    QTimer.singleShot(0, lambda: answer(tries))
    return seen
