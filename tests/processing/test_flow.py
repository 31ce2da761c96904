"""Flow files: the documented example works as written; every mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from seisproc.errors import FlowError, ParameterError
from seisproc.processing.flow import Flow, load_flow

EXAMPLE = """\
name: bandpass-agc
input: shots.sgy
output: shots_bp_agc.sgy
gather_by: ffid
steps:
  - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
  - agc: {window_ms: 500}
"""


def write(tmp_path: Path, text: str, name: str = "flow.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_example_flow_loads_as_written(tmp_path: Path) -> None:
    flow = load_flow(write(tmp_path, EXAMPLE))
    assert flow.name == "bandpass-agc"
    assert flow.gather_by == "ffid"
    assert [p.name for p in flow.processors()] == ["bandpass", "agc"]
    assert flow.steps[0].params == {"f1": 5, "f2": 10, "f3": 60, "f4": 80}


def test_relative_paths_resolve_against_the_flow_files_folder(tmp_path: Path, monkeypatch) -> None:
    sub = tmp_path / "project"
    sub.mkdir()
    monkeypatch.chdir(tmp_path)
    flow = load_flow(write(sub, EXAMPLE))
    assert flow.input == (sub / "shots.sgy").resolve()
    assert flow.output == (sub / "shots_bp_agc.sgy").resolve()


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    text = EXAMPLE.replace("input: shots.sgy", "input: /data/survey/shots.sgy")
    assert load_flow(write(tmp_path, text)).input == Path("/data/survey/shots.sgy")


def test_toml_flow_is_equivalent_to_yaml(tmp_path: Path) -> None:
    toml = """
name = "bandpass-agc"
input = "shots.sgy"
output = "shots_bp_agc.sgy"
gather_by = "ffid"
steps = [ { bandpass = { f1 = 5, f2 = 10, f3 = 60, f4 = 80 } }, { agc = { window_ms = 500 } } ]
"""
    assert load_flow(write(tmp_path, toml, "flow.toml")) == load_flow(write(tmp_path, EXAMPLE))


def test_flow_round_trips_through_yaml(tmp_path: Path) -> None:
    flow = load_flow(write(tmp_path, EXAMPLE))
    again = Flow.from_yaml_text(flow.to_yaml(), tmp_path)
    assert again == flow


def test_missing_flow_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"nope\.yaml: no such flow file"):
        load_flow(tmp_path / "nope.yaml")


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"not valid YAML at line 4"):
        load_flow(write(tmp_path, "name: x\ninput: a.sgy\nsteps: [\n  - agc: {"))


def test_unknown_processor_suggests_the_near_name(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"step 2: unknown processor 'agcc'.*Did you mean 'agc'"):
        load_flow(write(tmp_path, EXAMPLE.replace("- agc:", "- agcc:")))


def test_unknown_parameter_names_step_field_and_allowed(tmp_path: Path) -> None:
    text = EXAMPLE.replace("window_ms: 500", "window: 500")
    with pytest.raises(ParameterError) as err:
        load_flow(write(tmp_path, text))
    message = str(err.value)
    assert "step 2" in message and "'window'" in message and "window_ms" in message


def test_wrong_parameter_type_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"step 2.*'window_ms'.*'long'"):
        load_flow(write(tmp_path, EXAMPLE.replace("window_ms: 500", "window_ms: long")))


def test_missing_required_parameter_is_named(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"step 1.*'f4' is required"):
        load_flow(write(tmp_path, EXAMPLE.replace(", f4: 80", "")))


def test_unknown_top_level_field_lists_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"unknown field 'stepz' \(allowed: name, input, output"):
        load_flow(write(tmp_path, EXAMPLE.replace("steps:", "stepz:")))


def test_missing_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"field 'input' is required"):
        load_flow(write(tmp_path, EXAMPLE.replace("input: shots.sgy\n", "")))


def test_a_step_must_be_one_mapping(tmp_path: Path) -> None:
    text = EXAMPLE.replace("  - agc: {window_ms: 500}", "  - agc")
    with pytest.raises(FlowError, match=r"step 2 must be one mapping"):
        load_flow(write(tmp_path, text))


def test_empty_steps_are_refused(tmp_path: Path) -> None:
    text = EXAMPLE.split("steps:")[0] + "steps: []\n"
    with pytest.raises(FlowError, match=r"'steps'"):
        load_flow(write(tmp_path, text))


def test_a_flow_file_that_is_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"a flow is a mapping"):
        load_flow(write(tmp_path, "- agc: {window_ms: 500}\n"))


def test_summary_lines_describe_every_step(tmp_path: Path) -> None:
    lines = load_flow(write(tmp_path, EXAMPLE)).summary_lines()
    assert lines[0].startswith("FLOW bandpass-agc")
    assert lines[1].startswith("1. bandpass(") and lines[2].startswith("2. agc(")


def test_a_steps_file_parameter_resolves_against_the_flows_folder(tmp_path: Path) -> None:
    """A flow travels with its velocity table as it does with its input and output."""
    flow = Flow.from_yaml_text(
        "name: n\ninput: cdps.sgy\noutput: out.sgy\ngather_by: cdp\nsteps:\n"
        "  - nmo: {velocities: picks/line_12_vel.csv}\n  - agc: {window_ms: 500}\n",
        base_dir=tmp_path)
    assert flow.steps[0].params["velocities"] == str(tmp_path / "picks" / "line_12_vel.csv")
    assert flow.steps[1].params == {"window_ms": 500}
    again = Flow.from_mapping(flow.to_mapping(), base_dir="/elsewhere")
    assert again.steps[0].params == flow.steps[0].params  # absolute stays as it is
