"""Plan fingerprints: a checkpoint's unit numbers are trusted only for the plan that cut them."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from seisproc.errors import SegyFormatError
from seisproc.io.segy import open_segy
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.jobs.fingerprint import (
    InputIdentity,
    PlanFingerprint,
    flow_digest,
    input_changes,
    input_identity,
    mismatch_message,
    plan_changes,
    plan_fingerprint,
)
from seisproc.jobs.plan import plan_job
from seisproc.processing.flow import Flow

GEOMETRY = SurveyGeometry(shots=6, channels=24, samples=251, dt_ms=4.0)
STEPS = [{"agc": {"window_ms": 200}}]
LONG_AGO_NS = 1_700_000_000 * 10**9
"""An old modification time, so any rewrite now is later whatever the clock's resolution."""


@pytest.fixture
def survey(tmp_path: Path) -> Path:
    """6 shots x 24 channels, last modified long ago; each test rewrites its own."""
    path = synthesize_survey(tmp_path / "line.sgy", GEOMETRY)
    os.utime(path, ns=(LONG_AGO_NS, LONG_AGO_NS))
    return path


def flow_for(survey: Path, steps: list | None = None) -> Flow:
    return Flow.from_mapping({"name": "t", "input": str(survey), "output": "out.sgy",
                              "steps": steps or STEPS}, survey.parent)


def rewrite(survey: Path, geometry: SurveyGeometry = GEOMETRY, seed: int = 0) -> None:
    """Replace the survey with another, as a copy over it would."""
    os.replace(synthesize_survey(survey.with_name("new.sgy"), geometry, seed=seed), survey)


def set_mtime(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_identity_is_the_same_when_the_file_is_read_twice(survey: Path) -> None:
    assert input_identity(survey) == input_identity(survey)
    assert input_identity(survey).size == survey.stat().st_size


def test_identity_changes_when_the_file_is_rewritten_with_other_headers_same_size_and_time(
        survey: Path) -> None:
    before = input_identity(survey)
    rewrite(survey, replace(GEOMETRY, shot_interval_m=75.0))
    set_mtime(survey, before.mtime_ns)  # only the trace headers (source X) can tell now
    after = input_identity(survey)
    assert (after.size, after.mtime_ns) == (before.size, before.mtime_ns)
    assert after.header_sha256 != before.header_sha256
    assert input_changes(before, after) == [
        f"the input {survey} changed since the job started (same size, its headers differ)"]


def test_identity_changes_when_samples_are_rewritten_in_place(survey: Path) -> None:
    before = input_identity(survey)
    with open_segy(survey) as segy:
        lay = segy.layout
    with survey.open("r+b") as fh:  # samples of trace 5 only: no header sampled changes
        fh.seek(lay.data_offset + 5 * lay.trace_bytes + 240)
        fh.write(b"\x00" * 16)
    after = input_identity(survey)
    assert after != before and after.header_sha256 == before.header_sha256
    (change,) = input_changes(before, after)
    assert change.startswith(f"the input {survey} changed since the job started (same size, "
                             "modified 2023-11-")


def test_identity_changes_when_a_header_of_the_last_trace_changes(survey: Path) -> None:
    before = input_identity(survey)
    with open_segy(survey) as segy:
        lay = segy.layout
    with survey.open("r+b") as fh:  # an in-place edit of the last trace's FFID
        fh.seek(lay.data_offset + (lay.n_traces - 1) * lay.trace_bytes + 9)
        fh.write(b"\x7f")
    set_mtime(survey, before.mtime_ns)
    assert input_identity(survey).header_sha256 != before.header_sha256


def test_identity_changes_when_traces_are_appended(survey: Path) -> None:
    before = input_identity(survey)
    with open_segy(survey) as segy:
        trace_bytes = segy.layout.trace_bytes
    data = survey.read_bytes()
    survey.write_bytes(data + data[-trace_bytes:])
    after = input_identity(survey)
    assert after.size == before.size + trace_bytes
    assert input_changes(before, after) == [
        f"the input {survey} changed since the job started "
        f"(size {before.size:,} -> {after.size:,} bytes)"]


def test_identity_changes_when_the_file_is_only_touched(survey: Path) -> None:
    before = input_identity(survey)
    set_mtime(survey, before.mtime_ns + 10**9)
    after = input_identity(survey)
    assert after.header_sha256 == before.header_sha256 and after != before
    (change,) = input_changes(before, after)
    assert "(same size, modified " in change and "headers" not in change


def test_a_rewrite_within_the_same_second_shows_microseconds(survey: Path) -> None:
    before = input_identity(survey)
    set_mtime(survey, before.mtime_ns + 1000)
    (change,) = input_changes(before, input_identity(survey))
    assert ".000000 -> " in change and change.endswith(".000001)")


def test_a_file_that_is_not_segy_raises_what_open_segy_raises(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a survey")
    with pytest.raises(SegyFormatError, match="not a SEG-Y file"):
        input_identity(notes)
    with pytest.raises(SegyFormatError, match="no such file"):
        input_identity(tmp_path / "missing.sgy")


def test_fingerprint_records_the_unit_cut_of_the_plan(survey: Path) -> None:
    flow = flow_for(survey)
    fingerprint = plan_fingerprint(flow, plan_job(flow, gathers_per_unit=1), 1)
    assert (fingerprint.gathers_per_unit, fingerprint.n_units, fingerprint.n_traces) == (1, 6, 144)
    assert fingerprint.input == input_identity(survey)


def test_fingerprint_refuses_a_unit_size_the_plan_was_not_cut_with(survey: Path) -> None:
    flow = flow_for(survey)
    with pytest.raises(ValueError, match="not cut with 4 gathers per unit"):
        plan_fingerprint(flow, plan_job(flow, gathers_per_unit=1), 4)


def test_the_same_plan_of_the_same_file_has_no_changes(survey: Path) -> None:
    flow = flow_for(survey)
    first = plan_fingerprint(flow, plan_job(flow, gathers_per_unit=2), 2)
    again = plan_fingerprint(flow, plan_job(flow, gathers_per_unit=2, create=False), 2)
    assert plan_changes(first, again) == []


def test_plan_changes_name_the_unit_cut_that_changed(survey: Path) -> None:
    flow = flow_for(survey)
    one = plan_fingerprint(flow, plan_job(flow, gathers_per_unit=1), 1)
    four = plan_fingerprint(flow, plan_job(flow, gathers_per_unit=4, create=False), 4)
    assert plan_changes(one, four) == ["the unit size changed (1 -> 4 gathers per unit)",
                                       "the unit count changed (6 -> 2)"]


def test_plan_changes_name_the_input_path_and_what_changed(survey: Path) -> None:
    flow = flow_for(survey)
    before = plan_fingerprint(flow, plan_job(flow, gathers_per_unit=1), 1)
    rewrite(survey, replace(GEOMETRY, shots=4))  # replaced by a shorter line
    after = plan_fingerprint(flow, plan_job(flow, gathers_per_unit=1, create=False), 1)
    changes = plan_changes(before, after)
    assert changes[0].startswith(f"the input {survey} changed since the job started (size ")
    assert changes[1:] == ["the unit count changed (6 -> 4)", "the trace count changed (144 -> 96)"]


def test_plan_changes_say_the_flow_changed(survey: Path) -> None:
    flow = flow_for(survey)
    plan = plan_job(flow, gathers_per_unit=2)
    edited = flow_for(survey, [{"agc": {"window_ms": 300}}])
    assert plan_changes(plan_fingerprint(flow, plan, 2),
                        plan_fingerprint(edited, plan, 2)) == ["the flow changed"]


def test_flow_digest_ignores_key_order_but_not_values() -> None:
    mapping = {"name": "t", "steps": [{"agc": {"window_ms": 200}}], "input": "/d/a.sgy"}
    reordered = {"input": "/d/a.sgy", "steps": [{"agc": {"window_ms": 200}}], "name": "t"}
    assert flow_digest(mapping) == flow_digest(reordered)
    assert flow_digest(mapping) != flow_digest({**mapping, "input": "/d/b.sgy"})


def test_a_fingerprint_round_trips_through_json() -> None:
    fingerprint = PlanFingerprint(InputIdentity("/d/a.sgy", 1_234_000, 17, "ab" * 32),
                                  "cd" * 32, gathers_per_unit=4, n_units=24, n_traces=96)
    text = json.dumps(fingerprint.to_dict())
    assert PlanFingerprint.from_dict(json.loads(text)) == fingerprint


def test_mismatch_message_is_one_line_with_the_changes_and_how_to_start_over() -> None:
    message = mismatch_message("abc", ["the input /x.sgy changed since the job started "
                                       "(size 1,234,000 -> 1,300,000 bytes)",
                                       "the unit count changed (24 -> 6)"])
    assert message == (
        "job abc: cannot resume from its checkpoint: the input /x.sgy changed since the job "
        "started (size 1,234,000 -> 1,300,000 bytes); the unit count changed (24 -> 6); "
        "start over with: seisproc resume --restart abc")
