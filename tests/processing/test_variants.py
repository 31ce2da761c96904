"""A parameter test's flows: one per value, the step named by processor, rank or number,
and every mistake in ``--vary`` refused in one line before anything runs."""

from __future__ import annotations

import pytest

from seisproc.errors import FlowError, ParameterError
from seisproc.processing.flow import Flow
from seisproc.processing.variants import MAX_VALUES, parse_variation, varied_flows

FLOW = Flow.from_yaml_text("""
name: test
input: shots.sgy
output: out.sgy
steps:
  - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
  - agc: {window_ms: 500}
  - spiking_decon: {operator_ms: 160}
  - agc: {window_ms: 1000}
""", base_dir="/data")


def test_each_value_makes_a_flow_that_differs_only_in_that_parameter() -> None:
    variation = parse_variation("bandpass.f4=70,90.5", FLOW)
    flows = varied_flows(FLOW, variation)
    assert [f.steps[0].params for f in flows] == [
        {"f1": 5, "f2": 10, "f3": 60, "f4": 70}, {"f1": 5, "f2": 10, "f3": 60, "f4": 90.5}]
    for flow in flows:
        assert flow.steps[1:] == FLOW.steps[1:]
        assert (flow.input, flow.output, flow.gather_by) == (
            FLOW.input, FLOW.output, FLOW.gather_by)
    assert variation.labels() == ["bandpass.f4=70", "bandpass.f4=90.5"]


@pytest.mark.parametrize(("text", "step"), [("agc#1.window_ms=250", 1),
                                            ("agc#2.window_ms=250", 3),
                                            ("4.window_ms=250", 3),
                                            ("spiking_decon.operator_ms=80", 2)])
def test_a_step_is_named_by_processor_rank_or_number(text: str, step: int) -> None:
    variation = parse_variation(text, FLOW)
    assert variation.step == step
    flows = varied_flows(FLOW, variation)
    field = variation.field
    assert flows[0].steps[step].params[field] == variation.values[0]
    assert FLOW.steps[step].params[field] != variation.values[0]


@pytest.mark.parametrize(("text", "says"), [
    ("agc.window_ms=250", "has 2 agc steps; name one as agc#1 to agc#2"),
    ("agc#3.window_ms=250", "has 2 agc step(s), not #3"),
    ("9.window_ms=250", "has steps 1 to 4, not 9"),
    ("normalize.x=1", "has no normalize step"),
    ("bandpass.f9=1", "bandpass has no parameter 'f9' (it has: f1, f2, f3, f4"),
    ("bandpass.f4=", "no values after '='"),
    ("bandpass.f4", "write it as STEP.FIELD=V1,V2"),
    ("bandpass.f4=70,70", "a value is given twice"),
    ("bandpass.f4=" + ",".join(str(60 + i) for i in range(MAX_VALUES + 1)),
     f"at most {MAX_VALUES} fit side by side"),
])
def test_a_vary_that_does_not_fit_the_flow_is_one_line_naming_what(text: str,
                                                                   says: str) -> None:
    with pytest.raises(FlowError) as info:
        parse_variation(text, FLOW)
    assert says in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith(f"--vary {text!r}")


def test_a_value_the_processor_refuses_names_the_step_field_and_value() -> None:
    variation = parse_variation("agc#2.window_ms=250,-5", FLOW)
    with pytest.raises(ParameterError) as info:
        varied_flows(FLOW, variation)
    message = str(info.value)
    assert message.startswith("--vary agc#2.window_ms=-5: step 4:")
    assert "window_ms" in message and "-5" in message


def test_values_are_read_as_a_flow_file_reads_them() -> None:
    variation = parse_variation("agc#1.window_ms=250, 500.5", FLOW)
    assert variation.values == (250, 500.5)
