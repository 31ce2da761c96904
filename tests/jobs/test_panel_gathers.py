"""A parameter-test panel is what the job would write for that gather, and every bad
request is refused before any work, in one line naming the gather or the step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from seisproc.errors import ParameterError, SeisprocError
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.index import gather_index
from seisproc.io.segy import open_segy
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.panels import check_panels, run_on_gathers
from seisproc.processing.flow import Flow
from seisproc.processing.variants import parse_variation, varied_flows

STEPS = """
steps:
  - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
  - tpow: {power: 2}
  - agc: {window_ms: 300}
"""


@pytest.fixture
def flow(tmp_path: Path) -> Flow:
    synthesize_survey(tmp_path / "shots.sgy", SurveyGeometry(shots=5, channels=24, samples=501))
    return Flow.from_yaml_text(f"name: t\ninput: shots.sgy\noutput: out.sgy\n{STEPS}",
                               base_dir=tmp_path)


def test_a_panel_holds_exactly_what_the_job_writes_for_that_gather(
        flow: Flow, run_job: Callable[..., Job]) -> None:
    panels = run_on_gathers(flow, [1004, 1002])
    assert run_job(flow).state is JobState.COMPLETED
    with open_segy(flow.output) as written:
        index = gather_index(written, "ffid", cache=False)
        for panel in panels:
            expected = written.read_samples(index.positions(index.find(panel.key_value)))
            np.testing.assert_array_equal(panel.samples, expected)
    assert [p.key_value for p in panels] == [1004, 1002]
    assert panels[0].sample_interval_ms == 4.0
    assert panels[0].offsets_m[0] < 0 < panels[0].offsets_m[-1]  # split spread, in metres


def test_each_value_changes_the_panels_it_should(flow: Flow) -> None:
    flows = varied_flows(flow, parse_variation("agc.window_ms=100,1000", flow))
    short, long = (run_on_gathers(f, [1003])[0].samples for f in flows)
    assert not np.array_equal(short, long)


def test_a_gather_the_file_does_not_have_is_named_with_the_files_range(flow: Flow) -> None:
    with pytest.raises(SeisprocError) as info:
        check_panels([flow], [1003, 77])
    assert str(info.value) == (f"{flow.input}: no gather with ffid = 77 (the file's 5 "
                               "gathers run from 1001 to 1005)")


def test_a_value_that_does_not_fit_the_data_is_refused_before_any_work(flow: Flow) -> None:
    flows = varied_flows(flow, parse_variation("bandpass.f4=90,200", flow))  # Nyquist 125
    with pytest.raises(ParameterError) as info:
        check_panels(flows, [1001])
    assert "t [bandpass.f4=200]: step 1 (bandpass)" in str(info.value)
    assert "Nyquist" in str(info.value)


def test_a_gather_too_big_to_draw_is_refused_naming_the_key(tmp_path: Path) -> None:
    """An unset key makes the whole file one gather: it must not be read to be drawn."""
    synthesize_survey(tmp_path / "wide.sgy", SurveyGeometry(shots=1, channels=4100, samples=11))
    flow = Flow.from_yaml_text(f"name: t\ninput: wide.sgy\noutput: o.sgy\n{STEPS}"
                               .replace("f3: 60, f4: 80", "f3: 20, f4: 30")
                               .replace("300", "20"), base_dir=tmp_path)
    with pytest.raises(SeisprocError) as info:
        check_panels([flow], [1001])
    assert "the gather ffid = 1001 has 4,100 traces, more than a panel shows" in str(info.value)
