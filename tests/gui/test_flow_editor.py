"""The flow editor: round trips, live validation, step editing, saving and submitting."""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_editor_helpers import (
    EVERY_KIND,
    THREE_STEPS,
    select_step,
    spin,
    type_into,
    write_flow,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit

from seisproc.errors import FlowError, OutputError
from seisproc.gui.flow_editor import FlowEditor
from seisproc.gui.flow_editor.fields import NumberSpinBox
from seisproc.jobs.plan import plan_job
from seisproc.processing.flow import Flow, load_flow


@pytest.fixture
def editor(qtbot) -> FlowEditor:
    widget = FlowEditor()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def three_step_file(tmp_path: Path, small_survey: Path) -> Path:
    return write_flow(tmp_path, THREE_STEPS, input=small_survey, output=tmp_path / "out.sgy")


def emitted_flows(editor: FlowEditor) -> list[Flow]:
    flows: list[Flow] = []
    editor.flow_changed.connect(flows.append)
    return flows


# --- round trips ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [THREE_STEPS, EVERY_KIND], ids=["three-steps", "every-kind"])
def test_a_loaded_flow_saved_unchanged_loads_back_equal(editor, tmp_path, small_survey, text):
    source = (
        write_flow(tmp_path, text, input=small_survey, output=tmp_path / "out.sgy")
        if "{input}" in text
        else write_flow(tmp_path, text)
    )
    original = editor.load(source)

    saved = editor.save(tmp_path / "saved.yaml")

    assert load_flow(saved) == original
    assert editor.flow() == original


def test_every_parameter_kind_is_shown_in_its_own_widget(editor, tmp_path):
    editor.load(write_flow(tmp_path, EVERY_KIND))
    assert spin(editor, 0, "order").value() == 6
    low_hz = editor.step_form(0).field_widget("low_hz").findChild(QCheckBox)
    assert low_hz is not None and not low_hz.isChecked()  # optional, left unset
    window = editor.step_form(1).field_widget("window_ms")
    assert [s.text() for s in window.findChildren(NumberSpinBox)] == ["100", "900.5"]
    velocities = editor.step_form(2).field_widget("velocities_m_s")
    assert isinstance(velocities, QLineEdit) and velocities.text() == "1500, 2500.25"
    assert spin(editor, 3, "prewhitening_percent").text() == "0.1"


def test_values_typed_by_the_user_are_saved(qtbot, editor, three_step_file, tmp_path):
    editor.load(three_step_file)
    select_step(editor, 1)
    type_into(qtbot, spin(editor, 1, "window_ms"), "250")
    editor.step_form(1).field_widget("mode").setCurrentText("rms")

    flow = load_flow(editor.save(tmp_path / "edited.yaml"))

    assert flow.steps[1].params == {"window_ms": 250.0, "mode": "rms"}
    assert flow.steps[0] == load_flow(three_step_file).steps[0]


def test_defaults_the_user_never_touched_stay_out_of_the_saved_file(editor, tmp_path):
    editor.load(write_flow(tmp_path, EVERY_KIND))
    saved = editor.save(tmp_path / "saved.yaml").read_text()
    assert "tpow: {}" in saved
    assert "design_window_ms" not in saved and "low_hz" not in saved


def test_saved_yaml_is_what_seisproc_run_accepts(editor, three_step_file, tmp_path):
    editor.load(three_step_file)
    flow = load_flow(editor.save(tmp_path / "for_run.yaml"))
    plan = plan_job(flow, create=False)  # the checks `seisproc run` makes before any work
    assert plan.n_gathers == 6
    assert [p.name for p in flow.processors()] == ["bandpass", "agc", "top_mute"]


# --- validation ----------------------------------------------------------------------
def test_an_invalid_parameter_is_named_next_to_its_field_and_blocks_the_flow(
    qtbot, editor, three_step_file, tmp_path
):
    editor.load(three_step_file)
    flows = emitted_flows(editor)
    select_step(editor, 1)

    type_into(qtbot, spin(editor, 1, "window_ms"), "0")

    message = editor.step_form(1).field_error("window_ms")
    assert message == "step 2 (agc), window_ms: Input should be greater than 0"
    assert editor.errors() == [message]
    assert message in editor.problems_panel.text()
    assert editor.step_form(1).error_label("window_ms").text() == "Input should be greater than 0"
    assert editor.step_form(1).marked_fields() == ["window_ms"] and editor.step_marked(1)
    assert not editor.is_valid() and flows == []
    assert not editor.save_button.isEnabled()
    with pytest.raises(FlowError, match="step 2 \\(agc\\), window_ms"):
        editor.save(tmp_path / "never.yaml")
    assert not (tmp_path / "never.yaml").exists()


def test_a_cross_field_error_is_shown_under_the_form(editor, three_step_file):
    editor.load(three_step_file)
    spin(editor, 0, "f3").setValue(90)  # above f4 = 80

    form = editor.step_form(0)
    assert form.form_error().startswith("corners must satisfy 0 <= f1 < f2 <= f3 < f4")
    assert editor.errors()[0].startswith("step 1 (bandpass): corners must satisfy")
    assert form.field_error("f3") == "" and form.marked_fields() == []
    assert editor.step_marked(0)
    assert not editor.is_valid()


def test_fixing_the_value_emits_the_corrected_flow_once(editor, three_step_file):
    editor.load(three_step_file)
    flows = emitted_flows(editor)
    spin(editor, 1, "window_ms").setValue(0)
    spin(editor, 1, "window_ms").setValue(300)
    editor.name_edit.setText(editor.name_edit.text())  # no change: nothing new to emit

    assert [f.steps[1].params["window_ms"] for f in flows] == [300.0]
    assert editor.is_valid() and editor.errors() == []


def test_a_corner_above_nyquist_of_the_input_is_refused(editor, three_step_file):
    editor.load(three_step_file)
    spin(editor, 0, "f4").setValue(150)  # the survey is sampled at 4 ms: Nyquist 125 Hz
    assert editor.errors() == [
        "step 1 (bandpass): f4 = 150 Hz is above the Nyquist frequency 125 Hz of 4 ms sampling"
    ]


def test_a_list_that_is_not_numbers_is_named(qtbot, editor, tmp_path):
    editor.load(write_flow(tmp_path, EVERY_KIND))
    velocities = editor.step_form(2).field_widget("velocities_m_s")
    assert isinstance(velocities, QLineEdit)
    velocities.setText("1500, 25x0")
    assert editor.errors() == [
        "step 3 (spherical_divergence), velocities_m_s: '25x0' is not a number"
    ]
    velocities.setText("1500, -1")
    assert editor.errors() == [
        "step 3 (spherical_divergence), velocities_m_s: item 2: Input should be greater than 0"
    ]


def test_an_optional_field_is_set_by_its_check_box(editor, tmp_path):
    editor.load(write_flow(tmp_path, EVERY_KIND))
    low_hz = editor.step_form(0).field_widget("low_hz")
    low_hz.findChild(QCheckBox).setChecked(True)
    assert "step 1 (butterworth), low_hz: Input should be greater than 0" in editor.errors()
    low_hz.findChild(NumberSpinBox).setValue(8)
    assert editor.flow().steps[0].params == {"high_hz": 40.0, "order": 6, "low_hz": 8.0}


def test_header_fields_are_checked(editor, three_step_file):
    editor.load(three_step_file)
    editor.gather_combo.setCurrentText("ffidd")
    editor.name_edit.clear()
    problems = editor.errors()
    assert problems[0] == "name: give the flow a name"
    assert problems[1].startswith("gather by: unknown trace-header key 'ffidd'. Did you mean")


def test_a_new_editor_lists_what_a_flow_needs(editor):
    assert editor.errors() == [
        "name: give the flow a name",
        "input: choose the SEG-Y file to process",
        "output: choose the SEG-Y file to write",
        "steps: add at least one processing step",
    ]
    with pytest.raises(FlowError, match="name: give the flow a name"):
        editor.flow()


# --- steps ---------------------------------------------------------------------------
def test_steps_are_added_from_the_registry_removed_and_reordered(qtbot, editor, three_step_file):
    editor.load(three_step_file)
    editor.add_combo.setCurrentText("tpow")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.step_names() == ["bandpass", "agc", "top_mute", "tpow"]
    assert editor.current_step() == 3 and not editor.down_button.isEnabled()

    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert editor.step_names() == ["bandpass", "tpow", "agc", "top_mute"]
    assert [editor.steps_list.item(i).text() for i in range(4)] == [
        "1. bandpass",
        "2. tpow",
        "3. agc",
        "4. top_mute",
    ]

    select_step(editor, 0)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert [s.processor for s in editor.flow().steps] == ["tpow", "agc", "top_mute"]
    assert editor.flow().steps[0].params == {}


def test_messages_follow_a_step_when_it_moves(editor, three_step_file):
    editor.load(three_step_file)
    spin(editor, 2, "velocity_m_s").setValue(0)
    editor.move_step(2, -2)
    assert editor.errors() == ["step 1 (top_mute), velocity_m_s: Input should be greater than 0"]
    assert editor.steps_list.item(0).toolTip() == editor.errors()[0]


def test_a_required_value_cleared_by_the_user_is_named(editor, three_step_file):
    editor.load(three_step_file)
    form = editor.add_step("spiking_decon")
    spin(editor, 3, "operator_ms").setValue(0)
    assert editor.errors() == [
        "step 4 (spiking_decon), operator_ms: Input should be greater than 0"
    ]
    spin(editor, 3, "operator_ms").setValue(60)
    assert editor.flow().steps[3].params == {"operator_ms": 60.0}
    assert form.is_valid()


# --- submitting ----------------------------------------------------------------------
def test_submit_calls_the_callable_with_the_flow(qtbot, three_step_file):
    calls: list[Flow] = []
    editor = FlowEditor(submit=lambda flow: calls.append(flow) or "job-42")
    qtbot.addWidget(editor)
    editor.load(three_step_file)

    with qtbot.waitSignal(editor.submitted, timeout=1_000) as submitted:
        qtbot.mouseClick(editor.submit_button, Qt.MouseButton.LeftButton)

    assert calls == [load_flow(three_step_file)]
    assert submitted.args == ["job-42"]


def test_a_refused_submission_is_shown_in_the_editor(qtbot, three_step_file):
    def refuse(flow: Flow) -> None:
        raise OutputError(f"{flow.output}: the output already exists; use --overwrite")

    editor = FlowEditor(submit=refuse)
    qtbot.addWidget(editor)
    editor.load(three_step_file)
    results: list[object] = []
    editor.submitted.connect(results.append)

    qtbot.mouseClick(editor.submit_button, Qt.MouseButton.LeftButton)

    assert editor.status_label.text().startswith("Not submitted: ")
    assert "the output already exists" in editor.status_label.text()
    assert results == []


def test_submit_is_disabled_without_a_callable_or_while_invalid(qtbot, editor, three_step_file):
    editor.load(three_step_file)
    assert editor.is_valid() and not editor.submit_button.isEnabled()
    editor.set_submit(lambda flow: None)
    assert editor.submit_button.isEnabled()
    spin(editor, 1, "window_ms").setValue(0)
    assert not editor.submit_button.isEnabled()


def test_a_toml_name_is_refused_when_saving(editor, three_step_file, tmp_path):
    editor.load(three_step_file)
    with pytest.raises(FlowError, match="saved as YAML"):
        editor.save(tmp_path / "flow.toml")
