"""A new step starts valid and sensible: every registered processor, on typical data."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml
from flow_editor_helpers import spin
from PySide6.QtCore import Qt

from seisproc.gui.flow_editor import FlowEditor
from seisproc.gui.flow_editor.starting import starting_params
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.jobs.plan import plan_job
from seisproc.processing.base import (
    Processor,
    ProcessorParams,
    available_processors,
    processor_class,
)
from seisproc.processing.describe import describe_params
from seisproc.processing.flow import load_flow

TYPICAL = SurveyGeometry(shots=2, channels=12, samples=1001, dt_ms=4.0)
"""4 ms sampling, 4 s traces: what a new step's starting values must suit."""


@pytest.fixture(scope="module")
def typical_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_survey(tmp_path_factory.mktemp("typical") / "typical.sgy", TYPICAL)


def click_add_step(qtbot, editor: FlowEditor, processor: str) -> None:
    editor.add_combo.setCurrentText(processor)
    assert editor.add_combo.currentText() == processor
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)


def left_to_the_user(processor: str) -> set[str]:
    """Required free-text fields the processor gives no start for: a file of the user's
    (a velocity table) that no default can name. Nothing else may start invalid."""
    cls = processor_class(processor)
    return {
        spec.name
        for spec in describe_params(cls.Params)
        if spec.required and spec.kind == "text" and spec.name not in cls.starting_params
    }


@pytest.mark.parametrize("processor", sorted(available_processors()))
def test_a_new_step_of_every_processor_is_valid_on_typical_data(
    qtbot, typical_survey, tmp_path, processor
):
    editor = FlowEditor()
    qtbot.addWidget(editor)
    editor.name_edit.setText("new-step")
    editor.input_edit.setText(str(typical_survey))
    editor.output_edit.setText(str(tmp_path / "out.sgy"))
    gathers = processor_class(processor).gather_by  # a stack needs CMP gathers
    if gathers:
        editor.gather_combo.setCurrentText(gathers[0])

    click_add_step(qtbot, editor, processor)

    user_fields = left_to_the_user(processor)
    assert {p.field for p in editor.problems()} <= user_fields, editor.errors()
    if user_fields:
        assert editor.step_form(0).marked_fields() == sorted(
            user_fields, key=list(processor_class(processor).Params.model_fields).index
        )
        return
    assert not editor.step_marked(0) and editor.step_form(0).marked_fields() == []
    saved = load_flow(editor.save(tmp_path / "new_step.yaml"))
    assert saved.steps[0].processor == processor
    plan = plan_job(saved)  # every check `seisproc run` makes before it starts
    assert plan.n_gathers == TYPICAL.shots or gathers


def test_required_parameters_start_at_their_processors_sensible_values(qtbot, tmp_path):
    editor = FlowEditor()
    qtbot.addWidget(editor)
    for processor in ("bandpass", "agc", "top_mute", "spiking_decon"):
        click_add_step(qtbot, editor, processor)

    assert [spin(editor, 0, f).value() for f in ("f1", "f2", "f3", "f4")] == [5, 10, 60, 80]
    assert spin(editor, 1, "window_ms").value() == 500
    assert spin(editor, 2, "velocity_m_s").value() == 1800
    assert spin(editor, 3, "operator_ms").value() == 80
    assert editor.step_form(1).values() == {"window_ms": 500.0}  # written out: explicit


def test_starting_values_are_written_to_the_flow_file(qtbot, small_survey, tmp_path):
    editor = FlowEditor()
    qtbot.addWidget(editor)
    editor.name_edit.setText("bp")
    editor.input_edit.setText(str(small_survey))
    editor.output_edit.setText(str(tmp_path / "out.sgy"))
    click_add_step(qtbot, editor, "bandpass")
    click_add_step(qtbot, editor, "tpow")

    written = yaml.safe_load(editor.save(tmp_path / "bp.yaml").read_text())

    assert written["steps"] == [
        {"bandpass": {"f1": 5.0, "f2": 10.0, "f3": 60.0, "f4": 80.0}},
        {"tpow": {}},
    ]  # tpow's default power stays implicit


class _WindowParams(ProcessorParams):
    window_ms: float = pydantic.Field(gt=0, le=0.5)
    taper_ms: tuple[float, float] = pydantic.Field(description="[start, end] ms")
    gain_db: float = pydantic.Field(ge=-20)
    passes: int = pydantic.Field(gt=0)
    label: str
    order: int = 3


class _Undeclared(Processor):
    """A processor that declares no starting values (not registered)."""

    name = "undeclared"
    Params = _WindowParams

    def apply(self, gather, context):  # noqa: ANN001, ANN201
        return gather


def test_a_processor_without_starting_values_starts_within_its_bounds():
    values = starting_params(_Undeclared)

    assert values == {
        "window_ms": 0.25,
        "taper_ms": [0.0, 1.0],
        "gain_db": -20.0,
        "passes": 1,
        "label": "",
    }
    _WindowParams.model_validate(values)  # valid as it stands
