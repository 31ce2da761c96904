"""Each problem marks its field and its step, whichever check found it; and nothing moves
under the pointer while problems come and go."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_helpers import activate
from flow_editor_helpers import THREE_STEPS, select_step, spin, type_into, write_flow
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget

from seisproc.gui.flow_editor import FlowEditor
from seisproc.gui.flow_editor.problems import Problem

NYQUIST = "f4 = 150 Hz is above the Nyquist frequency 125 Hz of 4 ms sampling"


@pytest.fixture
def editor(qtbot, tmp_path: Path, small_survey: Path) -> FlowEditor:
    """The three-step flow on the 4 ms survey, shown as a window."""
    widget = FlowEditor()
    qtbot.addWidget(widget, before_close_func=lambda w: w.new_flow())
    widget.resize(1100, 720)
    widget.load(write_flow(tmp_path, THREE_STEPS, input=small_survey, output=tmp_path / "out.sgy"))
    activate(qtbot, widget)
    return widget


def test_a_corner_above_nyquist_marks_f4_and_its_step(qtbot, editor):
    select_step(editor, 0)
    type_into(qtbot, spin(editor, 0, "f4"), "150")

    form = editor.step_form(0)
    assert form.marked_fields() == ["f4"]
    assert form.error_label("f4").text() == NYQUIST
    assert form.error_label("f3").text() == ""
    assert editor.step_marked(0) and not editor.step_marked(1)
    assert editor.steps_list.item(0).toolTip() == f"step 1 (bandpass): {NYQUIST}"
    assert editor.problems() == [Problem(f"step 1 (bandpass): {NYQUIST}", 0, "f4")]

    type_into(qtbot, spin(editor, 0, "f4"), "120")
    assert form.marked_fields() == [] and not editor.step_marked(0)
    assert editor.is_valid()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Input should be greater than 0"),  # the parameter model refuses it
        ("2", "window_ms = 2 is shorter than one sample (4 ms)"),  # Processor.check does
    ],
    ids=["model", "check"],
)
def test_every_check_marks_the_field_and_the_step_alike(qtbot, editor, typed, message):
    select_step(editor, 1)
    type_into(qtbot, spin(editor, 1, "window_ms"), typed)

    form = editor.step_form(1)
    assert form.marked_fields() == ["window_ms"]
    assert form.error_label("window_ms").text() == message
    assert editor.step_marked(1)
    (problem,) = editor.problems()
    assert (problem.step, problem.field) == (1, "window_ms")
    assert message in problem.message and problem.message.startswith("step 2 (agc)")


def test_a_check_that_names_no_field_marks_the_step_and_the_form(qtbot, editor):
    form = editor.add_step("spiking_decon", {"operator_ms": 80, "design_window_ms": [0, 40]})
    assert form.marked_fields() == []
    assert form.form_error().startswith("the design window (11 samples inside the trace)")
    assert editor.step_marked(3)
    assert [(p.step, p.field) for p in editor.problems()] == [(3, None)]


def test_the_flows_own_fields_are_marked(qtbot, editor, tmp_path):
    not_segy = tmp_path / "notes.sgy"
    not_segy.write_text("not a SEG-Y file")
    type_into(qtbot, editor.input_edit, str(not_segy))
    editor.gather_combo.setCurrentText("ffidd")

    assert editor.header_marks() == ["input", "gather_by"]
    assert [p.field for p in editor.problems()] == ["input", "gather_by"]
    assert editor.header_labels["input"].toolTip().startswith("input: ")


def test_clicking_a_problem_goes_to_its_field(qtbot, editor):
    type_into(qtbot, spin(editor, 0, "f4"), "150")
    select_step(editor, 2)
    item_rect = editor.problems_panel.list.visualItemRect(editor.problems_panel.list.item(0))

    qtbot.mouseClick(
        editor.problems_panel.list.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center()
    )

    assert editor.current_step() == 0
    assert QApplication.focusWidget() is spin(editor, 0, "f4")


def geometry(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, widget.rect().topLeft()), widget.size())


def test_problems_appearing_move_no_widget_of_the_form(qtbot, editor):
    select_step(editor, 0)
    form = editor.step_form(0)
    watched = [
        *(form.field_widget(spec.name) for spec in form.specs),
        editor.steps_list,
        editor.add_button,
        editor.remove_button,
        editor.save_button,
        editor.submit_button,
        editor.name_edit,
        editor.gather_combo,
        editor.problems_panel.list,
    ]
    qtbot.wait(50)
    before = [geometry(widget, editor) for widget in watched]

    type_into(qtbot, spin(editor, 0, "f3"), "100")  # f3 > f4: a message under the form
    type_into(qtbot, spin(editor, 0, "f1"), "0")
    type_into(qtbot, spin(editor, 0, "f2"), "0")  # f1 < f2 broken: a field message too
    spin(editor, 1, "window_ms").setValue(0)
    spin(editor, 2, "velocity_m_s").setValue(0)
    editor.name_edit.clear()
    editor.gather_combo.setCurrentText("ffidd")
    editor.output_edit.clear()
    qtbot.wait(50)

    assert len(editor.errors()) >= 6 and editor.step_marked(0)
    assert [geometry(widget, editor) for widget in watched] == before
