"""The analytics report: :class:`~seisproc.history.JobStatistics` as HTML, CSV or JSON.

The HTML report is one self-contained file (inline CSS and SVG charts, no script, no
network): it can be mailed, archived or opened on an air-gapped workstation. CSV and
JSON carry the same figures for spreadsheets and scripts. The cards, charts and tables
take their numbers from :mod:`seisproc.analytics.figures`, as the GUI's analytics view
does, so the report and the desktop show the same figures.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from seisproc.analytics.charts import STATE_COLORS, Series, bar_chart, line_chart, pie_chart
from seisproc.analytics.figures import (
    disk_series,
    duration_bars,
    jobs_per_day,
    rates_per_day,
    resource_series,
    status_slices,
    summary_figures,
    top_processors,
)
from seisproc.analytics.format import human_duration
from seisproc.history.statistics import JobStatistics

# STATE_COLORS lives in charts; it stays importable from here for existing callers.
__all__ = ["FORMATS", "STATE_COLORS", "export_report", "render_csv", "render_html",
           "render_json", "report_charts"]

FORMATS = ("html", "csv", "json")
_CSS = """
body{margin:0;background:#f5f7fa;color:#1f2933;font:14px/1.45 system-ui,-apple-system,
'Segoe UI',sans-serif}main{max-width:1340px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:24px}p.sub{margin:0 0 20px;color:#5f6b7a}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:12px;
margin-bottom:16px}.card,.panel{background:#fff;border:1px solid #e3e7ec;border-radius:8px}
.card{padding:14px 16px}.card .v{font-size:26px;font-weight:600}.card .k{color:#5f6b7a}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
.panel{padding:8px 12px 12px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef1f4}
th{color:#5f6b7a;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
h2{font-size:15px;margin:8px 4px}
"""


def report_charts(stats: JobStatistics) -> dict[str, str]:
    """The report's charts as SVG strings, by name, in display order."""
    charts = {
        "jobs_by_status": pie_chart("Jobs by status", status_slices(stats)),
        "jobs_over_time": line_chart("Jobs over time (per day)", *jobs_per_day(stats),
                                     x_label=_day_label),
        "duration_by_type": bar_chart(
            "Average duration by job type (completed jobs)", duration_bars(stats),
            value_label=human_duration, y_unit=" s"),
        "success_rate_trend": line_chart(
            "Success / failure rate of ended jobs (per day)", *rates_per_day(stats),
            x_label=_day_label, y_unit=" %", y_max=100),
        "resource_utilisation": _timeline("Resource utilisation over time (UTC)",
                                          *resource_series(stats), y_unit=" %", y_max=100),
    }
    if any(b.disk_read_mb_s or b.disk_write_mb_s for b in stats.resources):
        charts["disk_throughput"] = _timeline("Disk throughput (MB/s)", *disk_series(stats))
    return charts


def _day_label(x: float) -> str:
    """A day axis tick: ``x`` is midnight UTC in POSIX seconds."""
    return datetime.fromtimestamp(x, UTC).strftime("%b %d")


def _timeline(title: str, xs: list[float], series: Sequence[Series], *, y_unit: str = "",
              y_max: float | None = None) -> str:
    """A line chart over POSIX times, its tick labels as fine as the span needs."""
    return line_chart(title, xs, series, x_label=_time_label(xs), y_unit=y_unit, y_max=y_max)


def _time_label(xs: Sequence[float]) -> Callable[[float], str]:
    span = (xs[-1] - xs[0]) if xs else 0.0
    pattern = "%H:%M:%S" if span < 600 else "%H:%M" if span < 2 * 86400 else "%b %d"
    return lambda x: datetime.fromtimestamp(x, UTC).strftime(pattern)


def render_html(stats: JobStatistics, *, title: str = "seisproc job analytics",
                generated_at: datetime | None = None) -> str:
    """The whole report as one HTML document (see the module docstring)."""
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    window = (f"last {stats.days} days: {stats.since:%Y-%m-%d} to {stats.until:%Y-%m-%d}"
              f" (UTC) &middot; generated {generated}")
    panels = "".join(f"<section class='panel'>{svg}</section>"
                     for svg in report_charts(stats).values())
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>"
            f"<h1>{escape(title)}</h1><p class='sub'>{window}</p>{_cards(stats)}"
            f"<div class='grid'>{panels}{_tables(stats)}</div></main></body></html>\n")


def _cards(stats: JobStatistics) -> str:
    body = "".join(f"<div class='card'><div class='k'>{escape(k)}</div>"
                   f"<div class='v'>{escape(v)}</div></div>" for k, v in summary_figures(stats))
    return f"<div class='cards'>{body}</div>"


def _tables(stats: JobStatistics) -> str:
    durations = _table("Durations of completed jobs", ["type", "jobs", "mean", "median", "p95"],
                       [[d.job_type.value.lower(), f"{d.jobs:,}", human_duration(d.mean_s),
                         human_duration(d.median_s), human_duration(d.p95_s)]
                        for d in stats.durations])
    processors = _table("Top processors", ["processor", "jobs", "traces"],
                        [[name, f"{jobs:,}", f"{traces:,}"]
                         for name, jobs, traces in top_processors(stats)])
    failures = _table("Top failure reasons", ["error", "message starts", "jobs", "last"],
                      [[r.error_type, r.message, f"{r.count:,}", f"{r.last_at:%Y-%m-%d}"]
                       for r in stats.failure_reasons])
    return durations + processors + failures


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    numeric = {i for i, h in enumerate(header) if h in ("jobs", "traces", "mean", "median",
                                                        "p95")}
    body = "".join("<tr>" + "".join(
        f"<td{' class=n' if i in numeric else ''}>{escape(cell)}</td>"
        for i, cell in enumerate(row)) + "</tr>" for row in rows)
    if not rows:
        body = f"<tr><td colspan='{len(header)}'>none in this period</td></tr>"
    return (f"<section class='panel'><h2>{escape(title)}</h2><table><tr>{head}</tr>"
            f"{body}</table></section>")


def render_json(stats: JobStatistics) -> str:
    """Every figure, as :meth:`JobStatistics.to_dict` gives it, indented."""
    return json.dumps(stats.to_dict(), indent=2) + "\n"


def render_csv(stats: JobStatistics) -> str:
    """Every figure as ``section,key,metric,value`` rows: one long table that any
    spreadsheet pivots, instead of one file per section."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "metric", "value"])
    writer.writerows(_csv_rows(stats.to_dict()))
    return out.getvalue()


def _csv_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    for metric in ("days", "since", "until", "total_jobs", "success_rate", "failure_rate",
                   "mean_duration_s", "traces_processed", "bytes_processed"):
        yield ["summary", "", metric, data[metric]]
    for state, count in data["by_state"].items():
        yield ["by_state", state, "jobs", count]
    keyed = {"per_day": "day", "durations": "job_type", "processors": "processor",
             "resources": "start", "failure_reasons": None}
    for section, key_field in keyed.items():
        for entry in data[section]:
            key = (f"{entry['error_type']}: {entry['message']}" if key_field is None
                   else entry[key_field])
            for metric, value in entry.items():
                if metric not in (key_field, "error_type", "message"):
                    yield [section, key, metric, value]
    for metric, value in data["predictions"].items():
        yield ["predictions", "", metric, value]


def export_report(stats: JobStatistics, path: str | Path, fmt: str | None = None) -> Path:
    """Write the report to ``path`` as ``fmt`` (default: the suffix's format, else HTML).

    >>> export_report(store.get_statistics(30), "report.html")  # doctest: +SKIP
    PosixPath('report.html')
    """
    target = Path(path)
    renderers = {"html": render_html, "csv": render_csv, "json": render_json}
    if fmt is None:
        suffix = target.suffix.lstrip(".").lower()
        fmt = suffix if suffix in renderers else "html"
    fmt = fmt.lower()
    if fmt not in renderers:
        raise ValueError(f"report format {fmt!r}: use one of {', '.join(FORMATS)}")
    target.write_text(renderers[fmt](stats), encoding="utf-8")
    return target
