"""Velocity analysis's own work: which CDPs make a super-gather, a location's panel equal
to the semblance of those CDPs' traces read another way (segyio), the panels file and the
velocity table written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segyio

from seisproc.errors import OutputError, ParameterError, SeisprocError
from seisproc.io.synth import SurveyGeometry
from seisproc.io.synth_geology import LayeredEarth, synthesize_imaging_line
from seisproc.jobs.velan import (
    VelanRequest,
    VelanResult,
    analyse_locations,
    check_velan,
    parse_cdps,
    save_velocity_table,
    super_gather_cdps,
    write_atomically,
)
from seisproc.processing.imaging import VelocityTable, read_velocity_table, semblance_panel

GEOMETRY = SurveyGeometry(shots=12, channels=24, samples=201, dt_ms=4.0)


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_imaging_line(
        tmp_path_factory.mktemp("velan") / "line.sgy",
        GEOMETRY,
        earth=LayeredEarth(dipping=None, diffractor=None),
    )


@pytest.mark.parametrize(
    ("keys", "cdp", "expected"),
    [
        (np.arange(1, 40), 20, [18, 19, 20, 21, 22]),
        (np.arange(1, 40), 1, [1, 2, 3]),  # the survey's first CDP: fewer, none invented
        (np.array([1, 2, 4, 5, 6, 7]), 4, [1, 2, 4, 5, 6]),  # CDP 3 missing: the nearest
    ],
)
def test_a_super_gather_is_the_cdp_and_its_nearest_neighbours(
    keys: np.ndarray, cdp: int, expected: list[int]
) -> None:
    assert super_gather_cdps(keys, cdp, 5).tolist() == expected


def test_cdp_ranges_include_the_last_where_the_step_lands_on_it() -> None:
    assert parse_cdps("200:1800:800") == [200, 1000, 1800]
    assert parse_cdps("200:1900:800") == [200, 1000, 1800]
    with pytest.raises(ParameterError, match="is not FIRST:LAST:STEP"):
        parse_cdps("200:1800:0")
    with pytest.raises(ParameterError, match="names no CDP or one twice"):
        parse_cdps("5,5")


def test_a_location_is_the_semblance_of_its_cdps_traces_read_by_segyio(line: Path) -> None:
    request = VelanRequest(line, 1500.0, 3000.0, 50.0, 40.0, 3, 50.0, auto=True)
    location = analyse_locations(request, [20])[0]
    with segyio.open(line, ignore_geometry=True) as f:
        cdps = f.attributes(segyio.TraceField.CDP)[:]
        chosen = np.flatnonzero(np.isin(cdps, [19, 20, 21]))
        traces = np.stack([f.trace[int(i)] for i in chosen])
        offsets = f.attributes(segyio.TraceField.offset)[:][chosen].astype(np.float64)
    assert location.cdps.tolist() == [19, 20, 21] and location.traces == len(chosen)
    expected = semblance_panel(
        traces, offsets, 4.0, request.velocities_m_s, 40.0, stretch_mute_percent=50.0
    )
    np.testing.assert_allclose(location.semblance, expected.values, atol=1e-6)
    assert location.pick_times_ms.size and np.all(np.diff(location.pick_velocities_m_s) >= 0)


def test_the_panels_file_reads_back_what_was_written(line: Path, tmp_path: Path) -> None:
    request = VelanRequest(line, 1500.0, 3000.0, 50.0, 40.0, 3, None)
    locations = analyse_locations(request, [15, 25])
    result = VelanResult(request, locations[0].times_ms, request.velocities_m_s, locations)
    back = VelanResult.load(result.save(tmp_path / "p.npz"))
    assert back.request == request
    assert [loc.cdp for loc in back.locations] == [15, 25]
    for mine, theirs in zip(locations, back.locations, strict=True):
        np.testing.assert_array_equal(mine.semblance, theirs.semblance)
    (tmp_path / "other.npz").write_bytes((tmp_path / "p.npz").read_bytes()[:100])
    with pytest.raises(SeisprocError, match="cannot read the velocity-analysis panels"):
        VelanResult.load(tmp_path / "other.npz")


def test_check_refuses_a_cdp_outside_the_survey_before_any_work(line: Path) -> None:
    request = VelanRequest(line, 1500.0, 3000.0)
    with pytest.raises(SeisprocError, match=r"CDP 999 is outside the survey \(its CDPs run "):
        check_velan(request, [10, 999])


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "vel.csv"
    target.write_text("old")

    def fail(partial: Path) -> None:
        partial.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, fail, overwrite=True)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["vel.csv"]
    with pytest.raises(OutputError, match="already exists"):
        save_velocity_table(target, VelocityTable.from_picks([1], [0], [1500]), overwrite=False)
    save_velocity_table(
        target, VelocityTable.from_picks([1, 1], [0, 800], [1500, 2100]), overwrite=True
    )
    assert read_velocity_table(target).function(1)[1].tolist() == [1500.0, 2100.0]
