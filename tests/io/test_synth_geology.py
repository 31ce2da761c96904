"""The imaging line: headers consistent with each midpoint, travel times traced exactly
through the layers, and ``seisproc synth --geology`` writing the line and its true
velocities."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import segyio
from click.testing import CliRunner

from seisproc.cli.main import cli
from seisproc.io.synth import SurveyGeometry
from seisproc.io.synth_geology import (
    DippingReflector,
    LayeredEarth,
    geology_shot_gather,
    midpoint_x_m,
    synthesize_imaging_line,
)
from seisproc.processing.imaging import read_velocity_table

GEOMETRY = SurveyGeometry(shots=12, channels=24, samples=376, dt_ms=4.0)


def test_one_layer_travel_times_are_the_exact_hyperbola() -> None:
    earth = LayeredEarth(boundaries_m=(), velocities_m_s=(2000.0,), reflections=())
    lateral = np.array([0.0, 100.0, 750.0, 2000.0])
    np.testing.assert_allclose(
        earth.one_way_time_s(lateral, 600.0), np.hypot(lateral, 600.0) / 2000.0, rtol=1e-6
    )


def test_layered_times_follow_snells_law_and_the_dix_sums() -> None:
    earth = LayeredEarth(
        boundaries_m=(300.0, 800.0), velocities_m_s=(1500.0, 2500.0, 3000.0), reflections=(0.1, 0.1)
    )
    np.testing.assert_allclose(earth.zero_offset_times_ms(), [400.0, 800.0])
    np.testing.assert_allclose(
        earth.rms_velocities_m_s(), [1500.0, math.sqrt((1500**2 * 400 + 2500**2 * 400) / 800)]
    )
    # One ray by hand: 20 degrees in the first layer, Snell's law into the second.
    p = math.sin(math.radians(20.0)) / 1500.0
    angle_2 = math.asin(p * 2500.0)
    reach = 300 * math.tan(math.radians(20.0)) + 500 * math.tan(angle_2)
    time = 300 / (1500 * math.cos(math.radians(20.0))) + 500 / (2500 * math.cos(angle_2))
    assert earth.one_way_time_s(np.array([reach]), 800.0)[0] == pytest.approx(time, rel=1e-6)


def test_a_flat_earth_gives_every_shot_the_same_traces_symmetric_in_offset() -> None:
    """Nothing varies along a flat line: the old generator's structure followed the shot
    number, which no CDP sort could flatten."""
    earth = LayeredEarth(dipping=None, diffractor=None, noise=0.0)
    first, later = (geology_shot_gather(GEOMETRY, shot, 0, earth) for shot in (0, 7))
    np.testing.assert_array_equal(first, later)
    np.testing.assert_allclose(first, first[::-1], atol=1e-6)  # split spread: +h and -h
    assert np.abs(first).max() > 0.1


def test_a_diffraction_arrives_at_the_time_of_its_two_ray_paths() -> None:
    earth = LayeredEarth(reflections=(0.0, 0.0, 0.0), dipping=None, noise=0.0)
    d = earth.diffractor
    assert d is not None
    shot = geology_shot_gather(GEOMETRY, 5, 0, earth)
    source = 10_000.0 + 5 * GEOMETRY.shot_interval_m
    receivers = source + GEOMETRY.offsets_m()
    expected = earth.one_way_time_s(np.array([d.x_m - source]), d.depth_m) + earth.one_way_time_s(
        d.x_m - receivers, d.depth_m
    )
    peaks = np.argmax(np.abs(shot), axis=1) * GEOMETRY.dt_ms / 1000.0
    np.testing.assert_allclose(peaks, expected, atol=GEOMETRY.dt_ms / 1000.0)


def test_headers_put_each_trace_at_its_midpoint(tmp_path: Path) -> None:
    path = synthesize_imaging_line(tmp_path / "line.sgy", GEOMETRY)
    with segyio.open(str(path), ignore_geometry=True) as f:
        sx = f.attributes(segyio.TraceField.SourceX)[:]
        gx = f.attributes(segyio.TraceField.GroupX)[:]
        cdp = f.attributes(segyio.TraceField.CDP)[:]
        cdp_x = f.attributes(segyio.TraceField.CDP_X)[:]
        offset = f.attributes(segyio.TraceField.offset)[:]
    np.testing.assert_array_equal(offset, gx - sx)
    np.testing.assert_array_equal(cdp_x, np.rint((sx + gx) / 2))
    # Coordinates are whole metres in the headers: midpoints agree to their rounding.
    np.testing.assert_allclose(midpoint_x_m(GEOMETRY, cdp), (sx + gx) / 2, atol=0.5)


def test_the_dipping_reflector_arrives_where_its_depth_says() -> None:
    dipping = DippingReflector(
        x_m=10_300.0,
        depth_m=500.0,
        dip_deg=0.0,
        x_start_m=9_000.0,
        x_end_m=11_600.0,
        reflection=0.1,
    )
    earth = LayeredEarth(
        boundaries_m=(),
        velocities_m_s=(2000.0,),
        reflections=(),
        dipping=dipping,
        diffractor=None,
        noise=0.0,
    )
    shot = geology_shot_gather(GEOMETRY, 6, 0, earth)
    middle = GEOMETRY.channels // 2
    assert np.argmax(np.abs(shot[middle])) == round(500.0 / GEOMETRY.dt_ms)  # 2 * 500 / 2000


def test_seisproc_synth_geology_writes_the_line_and_its_true_velocities(tmp_path: Path) -> None:
    out, table = tmp_path / "line.sgy", tmp_path / "true.csv"
    result = CliRunner().invoke(
        cli,
        [
            "synth",
            str(out),
            "--shots",
            "4",
            "--channels",
            "24",
            "--samples",
            "401",
            "--geology",
            "--velocities",
            str(table),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    with segyio.open(str(out), ignore_geometry=True) as f:
        assert f.tracecount == 96
    earth = LayeredEarth()
    picks = read_velocity_table(table)
    np.testing.assert_allclose(picks.time_ms[1:], earth.zero_offset_times_ms(), rtol=1e-9)
    np.testing.assert_allclose(picks.vrms_m_s[1:], earth.rms_velocities_m_s(), rtol=1e-9)


def test_velocities_without_geology_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["synth", str(tmp_path / "x.sgy"), "--velocities", str(tmp_path / "v.csv")]
    )
    assert result.exit_code == 2
    assert "--velocities needs --geology" in result.output
    assert not (tmp_path / "x.sgy").exists()
