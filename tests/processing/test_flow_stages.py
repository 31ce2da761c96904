"""Flows with stages: the model, what is refused before any work, and the stack step."""

from __future__ import annotations

import numpy as np
import pytest

from seisproc.errors import FlowError
from seisproc.processing import GatherContext, create_processor
from seisproc.processing.flow import Flow

STAGED = """
name: line-12-stack
input: shots.sgy
output: line_12_stack.sgy
stages:
  - gather_by: ffid
    steps:
      - bandpass: {f1: 4, f2: 8, f3: 60, f4: 80}
  - gather_by: cdp
    steps:
      - nmo: {velocities: line_12_vel.csv, stretch_mute_percent: 30}
      - stack: {}
"""
ONE_STAGE = """
name: bp
input: shots.sgy
output: out.sgy
gather_by: ffid
steps:
  - bandpass: {f1: 4, f2: 8, f3: 60, f4: 80}
"""


def refusal(text: str) -> str:
    with pytest.raises(FlowError) as caught:
        Flow.from_yaml_text(text, base_dir="/data")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_stages_read_with_their_keys_and_steps_and_paths_resolved() -> None:
    flow = Flow.from_yaml_text(STAGED, base_dir="/data")
    assert [s.gather_by for s in flow.all_stages()] == ["ffid", "cdp"]
    assert [p.name for p in flow.processors()] == ["bandpass", "nmo", "stack"]
    assert flow.all_stages()[1].steps[0].params["velocities"] == "/data/line_12_vel.csv"
    assert Flow.from_mapping(flow.to_mapping()) == flow


def test_a_one_stage_flow_reads_and_writes_back_exactly_as_before() -> None:
    flow = Flow.from_yaml_text(ONE_STAGE, base_dir="/data")
    assert flow.stages is None and flow.keep_intermediate is False
    assert list(flow.to_mapping()) == ["name", "input", "output", "gather_by", "steps"]
    assert flow.summary_lines()[0] == "FLOW bp: shots.sgy by ffid"


def test_a_stack_in_a_stage_gathered_by_ffid_is_refused_saying_why() -> None:
    message = refusal(STAGED.replace("gather_by: cdp", "gather_by: ffid"))
    assert "stack averages the traces of a CMP: put it in a stage with gather_by: cdp" in message
    assert "stage 2: step 2 (stack)" in message


def test_a_stack_in_a_one_stage_flow_by_ffid_is_refused_too() -> None:
    text = ONE_STAGE.replace("  - bandpass: {f1: 4, f2: 8, f3: 60, f4: 80}", "  - stack: {}")
    assert "put it in a stage with gather_by: cdp" in refusal(text)


def test_an_unknown_stage_key_is_named_with_the_allowed_ones() -> None:
    message = refusal(STAGED.replace("gather_by: cdp", "gatherby: cdp"))
    assert "stage 2: unknown field 'gatherby' (allowed: gather_by, steps)" in message


def test_steps_beside_stages_are_refused() -> None:
    assert "move it under 'stages'" in refusal(STAGED.replace("stages:", "steps: []\nstages:"))


def test_a_step_after_a_stack_in_the_same_stage_is_refused() -> None:
    text = STAGED + "      - agc: {window_ms: 200}\n"
    assert "must be the last step of its stage" in refusal(text)


def test_a_flow_without_steps_or_stages_is_refused() -> None:
    assert "'steps' is required" in refusal("name: a\ninput: a.sgy\noutput: b.sgy\n")


def test_stack_keeps_the_first_live_traces_headers_and_counts_the_fold() -> None:
    gather = np.zeros((4, 6), np.float32)
    gather[1], gather[3] = 2.0, 4.0
    reduced = create_processor("stack", {}).reduce(gather, GatherContext(4.0))
    np.testing.assert_array_equal(reduced.samples, np.full((1, 6), 3.0, np.float32))
    assert list(reduced.source_traces) == [1]
    assert reduced.header_values["nhs"].tolist() == [2]
    assert reduced.header_values["offset"].tolist() == [0]
