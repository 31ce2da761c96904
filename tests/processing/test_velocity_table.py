"""Velocity tables: CSV in and out, one-line refusals, interpolation and Dix, each
against values worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seisproc.errors import ParameterError
from seisproc.processing.imaging import (
    VelocityTable,
    dix_interval_velocities,
    read_velocity_table,
    write_velocity_table,
)

GOOD = "cdp,time_ms,vrms_m_s\n100,0,1500\n100,1000,2500\n300,0,2000\n300,1000,3000\n"


def _table(tmp_path: Path, text: str, name: str = "vel.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_table_written_and_read_back_gives_the_same_picks(tmp_path: Path) -> None:
    table = VelocityTable.from_picks(
        [300, 100, 100], [500.0, 1234.5678, 0.0], [2100.25, 2400.125, 1480.0]
    )
    back = read_velocity_table(write_velocity_table(tmp_path / "v.csv", table))
    np.testing.assert_array_equal(back.cdp, [100, 100, 300])
    np.testing.assert_array_equal(back.time_ms, [0.0, 1234.5678, 500.0])
    np.testing.assert_array_equal(back.vrms_m_s, [1480.0, 2400.125, 2100.25])
    assert (tmp_path / "v.csv").read_text().splitlines()[0] == "cdp,time_ms,vrms_m_s"


def test_columns_may_come_in_any_order_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    table = read_velocity_table(_table(tmp_path, "vrms_m_s,cdp,time_ms\n1500,7,0\n\n2500,7,800\n"))
    np.testing.assert_array_equal(table.function(7)[1], [1500.0, 2500.0])
    np.testing.assert_array_equal(table.rows, [2, 4])


def test_velocity_is_linear_in_time_then_between_cdps_and_constant_beyond() -> None:
    table = VelocityTable.from_picks(
        [100, 100, 300, 300], [0, 1000, 0, 1000], [1500, 2500, 2000, 3000]
    )
    v = table.rms_velocity([100, 200, 300, 50, 400], [0.0, 250.0, 1000.0, 4000.0])
    np.testing.assert_allclose(v[0], [1500, 1750, 2500, 2500])
    np.testing.assert_allclose(v[1], [1750, 2000, 2750, 2750])  # half-way in CDP
    np.testing.assert_allclose(v[2], [2000, 2250, 3000, 3000])
    np.testing.assert_allclose(v[3], v[0])  # before the first location: its function
    np.testing.assert_allclose(v[4], v[2])


def test_dix_gives_the_layer_velocities_of_a_two_layer_earth() -> None:
    # Layers of 2000 m/s for 800 ms and 3000 m/s for 400 ms (two-way).
    vrms_2 = np.sqrt((2000.0**2 * 800 + 3000.0**2 * 400) / 1200)
    interval = dix_interval_velocities(np.array([800.0, 1200.0]), np.array([2000.0, vrms_2]))
    np.testing.assert_allclose(interval, [2000.0, 3000.0])


def test_dix_marks_an_impossible_pick_as_nan() -> None:
    interval = dix_interval_velocities(np.array([500.0, 1000.0]), np.array([3000.0, 1500.0]))
    assert interval[0] == 3000.0 and np.isnan(interval[1])


BAD_TABLES = [
    ("cdp,time_ms\n1,0\n", 1, "vrms_m_s", "the header has no column 'vrms_m_s'"),
    ("cdp,vrms_m_s,time_ms\n1,1500,0\n1,abc,10\n", 3, "vrms_m_s", "'abc' is not a number"),
    ("cdp,time_ms,vrms_m_s\n1,0,1500\n1,100,0\n", 3, "vrms_m_s", "is not a velocity > 0"),
    ("cdp,time_ms,vrms_m_s\n1,0,1500\n1,100,-20\n", 3, "vrms_m_s", "is not a velocity > 0"),
    (
        "cdp,time_ms,vrms_m_s\n1,0,1500\n2,0,1500\n1,200,1600\n1,200,1700\n",
        5,
        "time_ms",
        "does not increase",
    ),
    ("cdp,time_ms,vrms_m_s\n1,300,1500\n1,100,1600\n", 3, "time_ms", "does not increase"),
    ("cdp,time_ms,vrms_m_s\n1,-4,1500\n", 2, "time_ms", "is not a time >= 0"),
    ("cdp,time_ms,vrms_m_s\n1.5,0,1500\n", 2, "cdp", "is not a whole CDP number"),
]


@pytest.mark.parametrize(("text", "row", "field", "problem"), BAD_TABLES)
def test_a_bad_table_is_one_line_naming_file_row_and_field(
    tmp_path: Path, text: str, row: int, field: str, problem: str
) -> None:
    path = _table(tmp_path, text)
    with pytest.raises(ParameterError) as caught:
        read_velocity_table(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: row {row}, field '{field}': ")
    assert problem in message


def test_a_cdp_outside_the_survey_is_refused_with_its_row(tmp_path: Path) -> None:
    path = _table(tmp_path, GOOD)
    read_velocity_table(path, cdp_range=(100, 300))
    with pytest.raises(
        ParameterError,
        match=rf"^{path}: row 4, field 'cdp': CDP 300 is "
        r"outside the survey \(CDPs 1 to 299\)$",
    ):
        read_velocity_table(path, cdp_range=(1, 299))


def test_a_time_beyond_the_trace_is_refused_with_its_row(tmp_path: Path) -> None:
    path = _table(tmp_path, GOOD)
    read_velocity_table(path, trace_length_ms=1000.0)
    with pytest.raises(
        ParameterError,
        match=rf"^{path}: row 3, field 'time_ms': 1000 ms is "
        r"beyond the end of the traces \(996 ms\)$",
    ):
        read_velocity_table(path, trace_length_ms=996.0)


def test_an_empty_or_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="the velocity table has no picks"):
        read_velocity_table(_table(tmp_path, "cdp,time_ms,vrms_m_s\n"))
    with pytest.raises(ParameterError, match="cannot read the velocity table"):
        read_velocity_table(tmp_path / "absent.csv")
