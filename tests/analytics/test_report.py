"""The report in its three formats, from the statistics of a small crafted history."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from seisproc.analytics import export_report, render_csv, render_html, render_json
from seisproc.analytics.report import report_charts
from seisproc.history import JobStatistics

SVG = "{http://www.w3.org/2000/svg}"
MARKS = {"path", "circle", "polyline", "rect"}


def drawn_marks(svg: str) -> int:
    """Shapes that show data (legend swatches and grid lines aside: those are rects of
    height 14/4 and lines)."""
    root = ET.fromstring(svg)
    return sum(1 for element in root.iter() if element.tag.removeprefix(SVG) in MARKS
               and element.get("height") not in ("14", "4"))


def test_report_has_every_chart_with_data(statistics: JobStatistics) -> None:
    charts = report_charts(statistics)
    assert list(charts) == ["jobs_by_status", "jobs_over_time", "duration_by_type",
                            "success_rate_trend", "resource_utilisation", "disk_throughput"]
    for name, svg in charts.items():
        assert "no data in this period" not in svg, name
        assert drawn_marks(svg) > 0, name
    bars = [r for r in ET.fromstring(charts["duration_by_type"]).iter(f"{SVG}rect")
            if r.get("height") not in ("14", "4")]
    assert len(bars) == 3, "processing, qc and index completed jobs"


def test_html_report_is_self_contained(statistics: JobStatistics) -> None:
    html = render_html(statistics)
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 6
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", html), "no external resource"
    assert "&lt;bad&gt;" in html and "<bad>" not in html


def test_html_report_summary_cards(statistics: JobStatistics) -> None:
    html = render_html(statistics)
    cards = dict(re.findall(r"<div class='k'>([^<]+)</div><div class='v'>([^<]+)</div>", html))
    assert cards["Total jobs"] == "10"
    assert cards["Success rate"] == "70.0 %"
    assert cards["Average duration"] == f"{(30 + 50 + 12 + 40 + 8 + 45 + 2) / 7:.1f} s"
    assert cards["Traces processed"] == f"{100 * sum(range(1, 11)):,}"


def test_json_report_is_the_statistics_dict(statistics: JobStatistics) -> None:
    data = json.loads(render_json(statistics))
    assert data == json.loads(json.dumps(statistics.to_dict()))
    assert data["total_jobs"] == 10 and data["by_state"]["COMPLETED"] == 7


def test_csv_report_has_one_row_per_figure(statistics: JobStatistics) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(statistics))))
    figure = {(r["section"], r["key"], r["metric"]): r["value"] for r in rows}
    assert figure[("summary", "", "total_jobs")] == "10"
    assert figure[("by_state", "FAILED", "jobs")] == "2"
    assert figure[("per_day", "2026-03-10", "completed")] == "4"
    assert figure[("durations", "QC", "median_s")] == "10.0"
    assert figure[("failure_reasons", "ProcessingError: line#.sgy: gather ffid=#: NaN <bad>",
                   "count")] == "2"
    assert figure[("processors", "agc", "jobs")] == "10"
    assert sum(1 for r in rows if r["section"] == "per_day") == 7 * 6
    assert sum(1 for r in rows if r["section"] == "resources") > 0


@pytest.mark.parametrize(("name", "fmt", "starts"), [
    ("r.html", None, "<!DOCTYPE html>"), ("r.csv", None, "section,key"),
    ("r.json", None, "{"), ("r.txt", None, "<!DOCTYPE html>"), ("r.out", "json", "{"),
    ("r.html", "CSV", "section,key")])
def test_export_picks_the_format_from_the_suffix_or_the_argument(
        statistics: JobStatistics, tmp_path: Path, name: str, fmt: str | None,
        starts: str) -> None:
    written = export_report(statistics, tmp_path / name, fmt)
    assert written == tmp_path / name
    assert written.read_text(encoding="utf-8").startswith(starts)


def test_export_refuses_an_unknown_format(statistics: JobStatistics, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="html, csv, json"):
        export_report(statistics, tmp_path / "r.pdf", "pdf")
