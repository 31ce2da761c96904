"""The SVG charts: valid XML, escaped labels, geometry that matches the numbers."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from seisproc.analytics.charts import (
    HEIGHT,
    Series,
    Slice,
    bar_chart,
    line_chart,
    nice_ticks,
    pie_chart,
)
from seisproc.analytics.format import human_bytes, human_duration, human_percent

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in parse(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize(("top", "ticks"), [
    (87, [0, 20, 40, 60, 80, 100]), (100, [0, 20, 40, 60, 80, 100]), (3, [0, 1, 2, 3]),
    (0.42, [0, 0.1, 0.2, 0.3, 0.4, 0.5]), (12_345, [0, 2500, 5000, 7500, 10000, 12500]),
    (0, [0, 1]), (-5, [0, 1])])
def test_nice_ticks_start_at_zero_and_cover_the_top(top: float, ticks: list[float]) -> None:
    assert nice_ticks(top) == pytest.approx(ticks)


def test_pie_wedges_cover_their_share_of_the_circle() -> None:
    svg = pie_chart("Jobs by status", [Slice("completed", 3, "#0f0"), Slice("failed", 1, "#f00"),
                                       Slice("queued", 0, "#999")])
    paths = list(parse(svg).iter(f"{SVG}path"))
    assert len(paths) == 2, "the empty slice is left out"
    arcs = [re.search(r"A[\d.]+,[\d.]+ 0 (\d) 1", p.get("d", "")) for p in paths]
    assert [a.group(1) for a in arcs if a] == ["1", "0"], "270 degrees is a large arc"
    assert "completed  3 (75.0 %)" in texts(svg) and "failed  1 (25.0 %)" in texts(svg)


def test_pie_of_one_state_is_a_full_circle() -> None:
    svg = pie_chart("Jobs by status", [Slice("completed", 5, "#0f0")])
    assert len(list(parse(svg).iter(f"{SVG}circle"))) == 1
    assert not list(parse(svg).iter(f"{SVG}path"))


def test_line_chart_scales_points_and_breaks_at_gaps() -> None:
    svg = line_chart("Rate", [0, 1, 2, 3, 4], [Series("ok", [0, 50, None, 100, 100], "#0f0")],
                     x_label=lambda x: f"d{x:g}", y_unit=" %", y_max=100)
    root = parse(svg)
    lines = [p.get("points", "").split() for p in root.iter(f"{SVG}polyline")]
    assert [len(points) for points in lines] == [2, 2], "the None splits the line in two"
    first_y = [float(point.split(",")[1]) for point in lines[0]]
    bottom, top = first_y
    assert bottom > top, "50 % is drawn above 0 %"
    assert {"0 %", "100 %", "d0", "d4"} <= set(texts(svg))


def test_a_lone_point_is_drawn_as_a_dot() -> None:
    svg = line_chart("Jobs", [738000.0], [Series("jobs", [7], "#00f")], x_label=str)
    assert not list(parse(svg).iter(f"{SVG}polyline"))
    assert len(list(parse(svg).iter(f"{SVG}circle"))) == 1


def test_bar_heights_are_proportional_to_values() -> None:
    svg = bar_chart("Duration", [("processing", 40.0), ("qc", 10.0)],
                    value_label=human_duration)
    heights = [float(r.get("height", 0)) for r in parse(svg).iter(f"{SVG}rect")]
    assert heights[0] == pytest.approx(4 * heights[1])
    assert {"40.0 s", "10.0 s", "processing", "qc"} <= set(texts(svg))


def test_labels_are_escaped() -> None:
    svg = bar_chart("<b>&'\"", [("<script>", 1.0)])
    assert "<script>" not in svg and "<b>" not in svg
    assert "<script>" in texts(svg) and "<b>&'\"" in texts(svg)


@pytest.mark.parametrize("svg", [
    pie_chart("p", []), line_chart("l", [], [], x_label=str), bar_chart("b", []),
    line_chart("l", [1.0, 2.0], [Series("s", [None, None], "#000")], x_label=str)])
def test_empty_charts_say_so_and_keep_their_size(svg: str) -> None:
    assert "no data in this period" in texts(svg)
    assert parse(svg).get("viewBox") == f"0 0 640 {HEIGHT}"


def test_human_formats() -> None:
    assert [human_duration(s) for s in (None, 0.2, 42, 185, 7620, 3 * 86400 + 3600)] == [
        "-", "200 ms", "42.0 s", "3 min 05 s", "2 h 07 min", "3 d 1 h"]
    assert [human_bytes(b) for b in (0, 1500, 2.5e9, 7.1e15)] == [
        "0 B", "1.5 kB", "2.5 GB", "7.1 PB"]
    assert human_percent(2 / 3) == "66.7 %" and human_percent(None) == "-"
    assert math.isclose(float(human_percent(1.0).split()[0]), 100.0)
