"""Velocity tables: RMS velocity picks per CDP, read from and written to plain CSV.

The file is what a spreadsheet opens: a header ``cdp,time_ms,vrms_m_s`` and one row per
pick. A table answers the one question NMO, semblance QC and migration ask: the RMS
velocity at any CDP and time, interpolated linearly in time within each picked location
and linearly in CDP between locations, constant beyond the first and last pick of either.
Every fault in a file is refused as one line naming the file, the row (the spreadsheet's
row number: the header is row 1) and the field, so it can be fixed without reading code.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seisproc.errors import ParameterError

__all__ = [
    "COLUMNS",
    "VelocityTable",
    "read_velocity_table",
    "write_velocity_table",
    "dix_interval_velocities",
]

COLUMNS = ("cdp", "time_ms", "vrms_m_s")
"""The CSV header, in the order :func:`write_velocity_table` writes it."""


@dataclass(frozen=True)
class VelocityTable:
    """RMS velocity picks, sorted by CDP and, within a CDP, by time.

    Build one with :meth:`from_picks` (from code, the GUI's picks, the auto-picker) or
    :func:`read_velocity_table`; arrays are read-only views of one pick per element.
    """

    cdp: np.ndarray
    """CDP number of each pick, int64."""
    time_ms: np.ndarray
    """Zero-offset two-way time of each pick, ms (float64)."""
    vrms_m_s: np.ndarray
    """RMS velocity of each pick, m/s (float64)."""
    rows: np.ndarray
    """Row of the source file each pick came from (header = row 1); built in code, the
    pick's place in the arrays given, from 1."""
    source: str = "velocity table"
    """Where the picks came from, for messages: the file's path."""

    @classmethod
    def from_picks(
        cls, cdp: object, time_ms: object, vrms_m_s: object, source: str = "velocity table"
    ) -> VelocityTable:
        """A table from pick arrays in any order; refused like a file with those rows.

        >>> table = VelocityTable.from_picks([100, 100], [0, 1000], [1500, 2500])
        >>> float(table.rms_velocity([100], [500.0])[0, 0])
        2000.0
        """
        cdps = np.asarray(cdp, dtype=np.int64).reshape(-1)
        times = np.asarray(time_ms, dtype=np.float64).reshape(-1)
        speeds = np.asarray(vrms_m_s, dtype=np.float64).reshape(-1)
        if not cdps.size == times.size == speeds.size:
            raise ParameterError(
                f"{source}: {cdps.size} CDPs, {times.size} times and {speeds.size} "
                "velocities; give one of each per pick"
            )
        order = np.lexsort((times, cdps))
        rows = np.arange(1, cdps.size + 1)[order]  # "row n": the n-th pick given
        return _checked(cls(cdps[order], times[order], speeds[order], rows, source))

    @property
    def locations(self) -> np.ndarray:
        """The CDPs that have picks, increasing."""
        return np.unique(self.cdp)

    def function(self, cdp: int) -> tuple[np.ndarray, np.ndarray]:
        """Times (ms) and velocities (m/s) picked at ``cdp`` (empty if none)."""
        at = self.cdp == cdp
        return self.time_ms[at], self.vrms_m_s[at]

    def rms_velocity(self, cdps: object, times_ms: object) -> np.ndarray:
        """RMS velocity, m/s, shape ``(len(cdps), len(times_ms))``, float64.

        Linear in time within each picked location, then linear in CDP between the two
        locations around each requested CDP; constant beyond the end picks of both.
        """
        times = np.asarray(times_ms, dtype=np.float64).reshape(-1)
        locations = self.locations
        at_locations = np.stack([np.interp(times, *self.function(int(c))) for c in locations])
        return _between(locations, at_locations, np.asarray(cdps, dtype=np.float64))

    def interval_velocity(self, cdps: object, times_ms: object) -> np.ndarray:
        """Dix interval velocity between consecutive ``times_ms`` (the first from time 0),
        m/s, of the RMS velocities :meth:`rms_velocity` gives at them."""
        times = np.asarray(times_ms, dtype=np.float64).reshape(-1)
        vrms = self.rms_velocity(cdps, times)
        return np.stack([dix_interval_velocities(times, row) for row in vrms])

    def check_survey(
        self, cdp_range: tuple[int, int] | None = None, trace_length_ms: float | None = None
    ) -> None:
        """Refuse a pick outside the survey: a CDP outside ``cdp_range`` (inclusive) or a
        time after ``trace_length_ms``, the time of the last sample."""
        for i in range(self.cdp.size):
            where = f"{self.source}: row {self.rows[i]}"
            if cdp_range is not None and not cdp_range[0] <= self.cdp[i] <= cdp_range[1]:
                raise ParameterError(
                    f"{where}, field 'cdp': CDP {self.cdp[i]} is outside the survey "
                    f"(CDPs {cdp_range[0]} to {cdp_range[1]})"
                )
            if trace_length_ms is not None and self.time_ms[i] > trace_length_ms + 1e-9:
                raise ParameterError(
                    f"{where}, field 'time_ms': {self.time_ms[i]:g} ms is beyond the end of "
                    f"the traces ({trace_length_ms:g} ms)"
                )


def _between(locations: np.ndarray, values: np.ndarray, cdps: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (one per location) interpolated linearly at each of ``cdps``."""
    cdps = cdps.reshape(-1)
    if locations.size == 1:
        return np.repeat(values, cdps.size, axis=0)
    clipped = np.clip(cdps, locations[0], locations[-1])
    right = np.clip(np.searchsorted(locations, clipped, side="right"), 1, locations.size - 1)
    left = right - 1
    weight = (clipped - locations[left]) / (locations[right] - locations[left])
    out: np.ndarray = values[left] * (1.0 - weight[:, None]) + values[right] * weight[:, None]
    return out


def _checked(table: VelocityTable) -> VelocityTable:
    """``table`` if every pick is usable; otherwise the first fault, as one line."""
    if table.cdp.size == 0:
        raise ParameterError(f"{table.source}: the velocity table has no picks")
    for i in range(table.cdp.size):
        where = f"{table.source}: row {table.rows[i]}"
        if not math.isfinite(table.time_ms[i]) or table.time_ms[i] < 0:
            raise ParameterError(
                f"{where}, field 'time_ms': {table.time_ms[i]:g} is not a time >= 0 ms"
            )
        if not table.vrms_m_s[i] > 0 or not math.isfinite(table.vrms_m_s[i]):
            raise ParameterError(
                f"{where}, field 'vrms_m_s': {table.vrms_m_s[i]:g} is not a velocity > 0 m/s"
            )
        if i and table.cdp[i] == table.cdp[i - 1] and table.time_ms[i] <= table.time_ms[i - 1]:
            raise ParameterError(
                f"{where}, field 'time_ms': {table.time_ms[i]:g} ms does not increase on the "
                f"previous pick of CDP {table.cdp[i]} ({table.time_ms[i - 1]:g} ms, row "
                f"{table.rows[i - 1]})"
            )
    return table


def read_velocity_table(
    path: str | os.PathLike[str],
    *,
    cdp_range: tuple[int, int] | None = None,
    trace_length_ms: float | None = None,
) -> VelocityTable:
    """Read and check a velocity table CSV.

    Rows of one CDP must be in increasing time; CDPs may come in any order. With
    ``cdp_range`` (the survey's first and last CDP) and ``trace_length_ms`` (the time of
    the last sample), picks outside the survey are refused too.

    >>> table = read_velocity_table("line_12_vel.csv")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            lines = list(csv.reader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ParameterError(f"{path}: cannot read the velocity table: {exc}") from None
    table = _parse(lines, str(path))
    table.check_survey(cdp_range, trace_length_ms)
    return table


def _parse(lines: list[list[str]], source: str) -> VelocityTable:
    header = [name.strip().lower() for name in lines[0]] if lines else []
    for field in COLUMNS:
        if field not in header:
            raise ParameterError(
                f"{source}: row 1, field {field!r}: the header has no column {field!r} "
                f"(expected the header {','.join(COLUMNS)})"
            )
    columns = [header.index(field) for field in COLUMNS]
    values: list[tuple[float, ...]] = []
    rows: list[int] = []
    for row, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue
        values.append(
            tuple(
                _number(line, column, field, source, row)
                for column, field in zip(columns, COLUMNS, strict=True)
            )
        )
        rows.append(row)
    picks = np.array(values, dtype=np.float64).reshape(-1, 3)
    order = np.argsort(picks[:, 0], kind="stable")  # file order within a CDP, checked
    return _checked(
        VelocityTable(
            picks[order, 0].astype(np.int64),
            picks[order, 1],
            picks[order, 2],
            np.array(rows, dtype=np.int64)[order],
            source,
        )
    )


def _number(line: list[str], column: int, field: str, source: str, row: int) -> float:
    text = line[column].strip() if column < len(line) else ""
    try:
        value = float(text)
    except ValueError:
        raise ParameterError(
            f"{source}: row {row}, field {field!r}: {text!r} is not a number"
        ) from None
    if field == "cdp" and value != int(value):
        raise ParameterError(
            f"{source}: row {row}, field 'cdp': {text!r} is not a whole CDP number"
        )
    return value


def write_velocity_table(path: str | os.PathLike[str], table: VelocityTable) -> Path:
    """Write ``table`` as CSV (header ``cdp,time_ms,vrms_m_s``), sorted by CDP and time.

    Times and velocities are written with up to 10 significant digits, enough that a
    table read back interpolates to the same velocities within 1e-6 m/s.
    """
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        for cdp, time_ms, vrms in zip(table.cdp, table.time_ms, table.vrms_m_s, strict=True):
            writer.writerow([int(cdp), f"{time_ms:.10g}", f"{vrms:.10g}"])
    return path


def dix_interval_velocities(times_ms: np.ndarray, vrms_m_s: np.ndarray) -> np.ndarray:
    """Dix interval velocity of each layer between consecutive picks, m/s.

    Layer ``i`` lies between ``times_ms[i-1]`` and ``times_ms[i]`` (the first from time
    0, where its velocity is ``vrms_m_s[0]``). A layer whose RMS velocities cannot come
    from any real interval velocity (``t v**2`` falling) gets NaN, which is how the GUI
    shows an impossible pick.

    >>> dix_interval_velocities(np.array([1000.0, 2000.0]), np.array([2000.0, 2500.0]))
    array([2000.        , 2915.47594742])
    """
    times = np.asarray(times_ms, dtype=np.float64)
    squares = times * np.asarray(vrms_m_s, dtype=np.float64) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.diff(squares, prepend=0.0) / np.diff(times, prepend=0.0)
    ratio[0] = float(np.asarray(vrms_m_s)[0]) ** 2
    out: np.ndarray = np.sqrt(np.where(ratio > 0, ratio, np.nan))
    return out


class ReadsVelocityTable:
    """Mixed into a processor whose ``params.velocities`` names a velocity table: the
    flow resolves the path against its own folder, the table is read and checked once
    per processor, and :meth:`check` refuses a table whose picks run past the trace."""

    path_fields: ClassVar[tuple[str, ...]] = ("velocities",)
    params: Any
    _table: VelocityTable | None = None

    def table(self) -> VelocityTable:
        """The velocity table, read and checked once per processor."""
        if self._table is None:
            self._table = read_velocity_table(Path(self.params.velocities).expanduser())
        return self._table

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        self.table().check_survey(trace_length_ms=(n_samples - 1) * sample_interval_ms)

