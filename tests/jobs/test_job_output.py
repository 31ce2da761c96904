"""A processing job's output is a faithful processed copy of its input, or nothing at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segyio

from seisproc.errors import OutputError
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.segy import open_segy
from seisproc.jobs.model import JobState
from seisproc.jobs.plan import partial_path_for, plan_job
from seisproc.processing.flow import Flow

STEPS = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 500}}]


@pytest.fixture
def survey(tmp_path: Path) -> Path:
    return synthesize_survey(tmp_path / "shots.sgy",
                             SurveyGeometry(shots=5, channels=30, samples=301, dt_ms=4.0))


def make_flow(survey: Path, steps: list | None = None, output: str = "out.sgy",
              gather_by: str = "ffid") -> Flow:
    return Flow.from_mapping({"name": "t", "input": str(survey), "output": output,
                              "gather_by": gather_by, "steps": steps or STEPS}, survey.parent)


def test_output_keeps_every_trace_header_and_the_sample_interval(survey: Path, run_job) -> None:
    flow = make_flow(survey)
    job = run_job(flow)
    assert job.state is JobState.COMPLETED
    assert job.progress.traces_done == 150 and job.progress.units_total == 3
    with segyio.open(survey, ignore_geometry=True) as src, \
            segyio.open(flow.output, ignore_geometry=True) as out:
        assert out.tracecount == src.tracecount
        assert segyio.tools.dt(out) == segyio.tools.dt(src)
        for i in range(src.tracecount):
            assert dict(out.header[i]) == dict(src.header[i])
        assert out.bin[segyio.BinField.Format] == src.bin[segyio.BinField.Format]


def test_output_samples_equal_the_processors_applied_gather_by_gather(survey: Path,
                                                                    run_job) -> None:
    flow = make_flow(survey)
    run_job(flow)
    processors = flow.processors()
    from seisproc.processing.base import GatherContext
    with open_segy(survey) as src, open_segy(flow.output) as out:
        positions = np.arange(60, 90)  # the third shot
        samples, headers = src.read(positions)
        expected = samples
        for p in processors:
            expected = p.apply(expected, GatherContext(4.0, src.offsets_m(headers)))
        np.testing.assert_array_equal(out.read_samples(positions), expected)


def test_provenance_is_recorded_in_the_textual_header(survey: Path, run_job) -> None:
    flow = make_flow(survey)
    run_job(flow)
    with open_segy(flow.output) as out:
        lines = out.text_header().splitlines()
    assert "SEISPROC" in lines[30]
    assert "FLOW t" in lines[31] and "bandpass" in lines[32] and "agc" in lines[33]
    with open_segy(survey) as src:
        assert lines[:30] == src.text_header().splitlines()[:30]


def test_unsorted_gather_key_writes_traces_back_in_input_order(survey: Path, run_job) -> None:
    by_ffid = make_flow(survey, output="ffid.sgy", steps=[{"tpow": {"power": 2.0}}])
    by_cdp = make_flow(survey, gather_by="cdp", output="cdp.sgy", steps=[{"tpow": {"power": 2.0}}])
    run_job(by_cdp)
    run_job(by_ffid)
    assert by_cdp.output.read_bytes()[3600:] == by_ffid.output.read_bytes()[3600:]


def test_two_runs_of_the_same_flow_are_byte_identical(survey: Path, run_job) -> None:
    flow = make_flow(survey)
    run_job(flow)
    first = flow.output.read_bytes()
    run_job(flow, overwrite=True)
    assert flow.output.read_bytes() == first


def test_output_equal_to_input_is_refused_and_input_untouched(survey: Path, run_job) -> None:
    before = survey.read_bytes()
    with pytest.raises(OutputError, match="never overwrites its input"):
        run_job(make_flow(survey, output=survey.name))
    with pytest.raises(OutputError, match="never overwrites its input"):
        run_job(make_flow(survey, output=survey.name), overwrite=True)
    assert survey.read_bytes() == before


def test_existing_output_is_refused_unless_overwrite(survey: Path, run_job) -> None:
    flow = make_flow(survey)
    flow.output.write_bytes(b"precious")
    with pytest.raises(OutputError, match="already exists; use --overwrite"):
        run_job(flow)
    assert flow.output.read_bytes() == b"precious"
    run_job(flow, overwrite=True)
    assert flow.output.stat().st_size > 3600


def test_corner_above_nyquist_fails_the_job_before_any_output(survey: Path, run_job) -> None:
    flow = make_flow(survey, steps=[{"bandpass": {"f1": 5, "f2": 10, "f3": 100, "f4": 200}}])
    job = run_job(flow)
    assert job.state is JobState.FAILED and job.error is not None
    assert job.error.type == "ParameterError"
    assert "step 1 (bandpass)" in job.error.message and "125" in job.error.message
    assert not flow.output.exists()
    assert not partial_path_for(flow.output, job.id).exists()


def test_unknown_gather_key_fails_the_job_naming_the_key(survey: Path, run_job) -> None:
    job = run_job(make_flow(survey, gather_by="shotpoint_number"))
    assert job.state is JobState.FAILED and job.error is not None
    assert "unknown trace-header key 'shotpoint_number'" in job.error.message


def test_plan_cuts_gathers_into_units_covering_every_trace_once(survey: Path) -> None:
    plan = plan_job(make_flow(survey), gathers_per_unit=2)
    assert [len(u.gathers) for u in plan.units] == [2, 2, 1]
    positions = np.concatenate([g.positions for u in plan.units for g in u.gathers])
    assert sorted(positions.tolist()) == list(range(150))


def test_integer_input_is_written_as_ieee_float(tmp_path: Path, run_job) -> None:
    spec = segyio.spec()
    spec.format, spec.samples, spec.tracecount, spec.sorting = 3, range(200), 4, None
    path = tmp_path / "int16.sgy"
    with segyio.create(path, spec) as f:
        for i in range(4):
            f.header[i] = {segyio.TraceField.FieldRecord: 1, segyio.TraceField.offset: 100 * i}
            f.trace[i] = (np.sin(np.arange(200) / 5.0) * 1000).astype(np.int16)
        f.bin.update(hdt=4000)
    flow = make_flow(path, steps=[{"agc": {"window_ms": 200}}])
    assert run_job(flow).state is JobState.COMPLETED
    with segyio.open(flow.output, ignore_geometry=True) as out:
        assert out.bin[segyio.BinField.Format] == 5
        assert 0.5 < np.sqrt(np.mean(out.trace[1] ** 2)) < 2.0
