"""The figures both front ends draw: checked against the crafted history in conftest.py
(ten jobs on March 8-10, 2026), and the report's cards checked to be those figures."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from seisproc.analytics import charts, render_html, report
from seisproc.analytics.figures import (
    day_timestamps,
    disk_series,
    duration_bars,
    jobs_per_day,
    outcomes_per_day,
    rates_per_day,
    resource_series,
    status_slices,
    summary_figures,
    top_processors,
)
from seisproc.analytics.format import human_clock
from seisproc.history import JobStatistics, ResourceBucket
from seisproc.jobs.model import JobState


def test_per_day_figures_count_the_crafted_jobs(statistics: JobStatistics) -> None:
    xs, series = jobs_per_day(statistics)
    counts = {s.name: list(s.values)[-3:] for s in series}
    assert counts == {"submitted": [2, 3, 5], "completed": [1, 2, 4], "failed": [1, 0, 1],
                      "cancelled": [0, 1, 0]}
    assert xs == day_timestamps(statistics) and len(xs) == 7
    assert xs[-1] == datetime(2026, 3, 10, tzinfo=UTC).timestamp()
    assert {s.name: list(s.values)[-1] for s in outcomes_per_day(statistics)[1]} == {
        "completed": 4, "failed": 1, "cancelled": 0, "not ended": 0}
    success, failure = rates_per_day(statistics)[1]
    assert success.values[0] is None, "no job ended on March 4: nothing to divide"
    assert list(success.values)[-3:] == pytest.approx([50.0, 100 * 2 / 3, 80.0])
    assert list(failure.values)[-3:] == [50.0, 0.0, 20.0]


def test_status_durations_and_processors(statistics: JobStatistics) -> None:
    assert [(s.label, s.value, s.color) for s in status_slices(statistics)] == [
        ("completed", 7, charts.STATE_COLORS[JobState.COMPLETED]),
        ("failed", 2, charts.STATE_COLORS[JobState.FAILED]),
        ("cancelled", 1, charts.STATE_COLORS[JobState.CANCELLED])]
    assert dict(duration_bars(statistics)) == {
        "processing": (30 + 50 + 40 + 45) / 4, "qc": (12 + 8) / 2, "index": 2.0}
    assert top_processors(statistics) == [("agc", 10, 5500), ("bandpass", 10, 5500)]
    assert top_processors(statistics, limit=1) == [("agc", 10, 5500)]


def test_report_cards_are_the_summary_figures(statistics: JobStatistics) -> None:
    cards = re.findall(r"<div class='k'>([^<]+)</div><div class='v'>([^<]+)</div>",
                       render_html(statistics))
    assert cards == summary_figures(statistics)
    assert report.STATE_COLORS is charts.STATE_COLORS, "old import path still works"


def test_resource_lines_break_where_the_monitor_was_not_sampling(
        statistics: JobStatistics) -> None:
    t0 = datetime(2026, 3, 10, 9, tzinfo=UTC)
    buckets = tuple(
        ResourceBucket(t0 + timedelta(minutes=minute), 60, 1, cpu_percent=float(minute),
                       memory_percent=50.0, gpu_percent=None, disk_read_mb_s=2.0 * minute,
                       disk_write_mb_s=1.0, running_jobs=1.0)
        for minute in (0, 1, 10))
    stats = replace(statistics, resources=buckets)

    xs, series = resource_series(stats)
    assert [s.name for s in series] == ["CPU", "memory"], "no GPU reading, no GPU line"
    assert xs == [t0.timestamp(), t0.timestamp() + 60, t0.timestamp() + 330,
                  t0.timestamp() + 600]
    assert series[0].values == [0.0, 1.0, None, 10.0]
    disk_xs, (read, write) = disk_series(stats)
    assert disk_xs == xs and read.values == [0.0, 2.0, None, 20.0]
    assert write.values == [1.0, 1.0, None, 1.0]

    with_gpu = replace(stats, resources=(replace(buckets[0], gpu_percent=7.0), *buckets[1:]))
    assert resource_series(with_gpu)[1][2].values == [7.0, None, None, None]


def test_human_clock_reads_like_a_stopwatch() -> None:
    assert [human_clock(s) for s in (None, 0.4, 42.4, 725, 3723, -3)] == [
        "-", "0:00", "0:42", "12:05", "1:02:03", "0:00"]
    assert human_clock(None, missing="") == ""
