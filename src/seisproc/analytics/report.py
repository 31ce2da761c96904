"""The analytics report: :class:`~seisproc.history.JobStatistics` as HTML, CSV or JSON.

The HTML report is one self-contained file (inline CSS and SVG charts, no script, no
network): it can be mailed, archived or opened on an air-gapped workstation. CSV and
JSON carry the same figures for spreadsheets and scripts. The charts come from
:func:`report_charts`, which the GUI's analytics view reuses.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

from seisproc.analytics.charts import PALETTE, Series, Slice, bar_chart, line_chart, pie_chart
from seisproc.analytics.format import human_bytes, human_duration, human_percent
from seisproc.history.statistics import JobStatistics, ResourceBucket
from seisproc.jobs.model import JobState

__all__ = ["FORMATS", "STATE_COLORS", "export_report", "render_csv", "render_html",
           "render_json", "report_charts"]

FORMATS = ("html", "csv", "json")
STATE_COLORS = {
    JobState.COMPLETED: "#2e9d5b", JobState.FAILED: "#d64541", JobState.CANCELLED: "#e0a21b",
    JobState.RUNNING: "#2f80ed", JobState.QUEUED: "#9aa5b1", JobState.PAUSED: "#9b59b6",
    JobState.CANCELLING: "#e67e22", JobState.INTERRUPTED: "#8e2c2c",
}
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
        "jobs_by_status": pie_chart("Jobs by status", [
            Slice(state.value.lower(), stats.by_state.get(state, 0), color)
            for state, color in STATE_COLORS.items()]),
        "jobs_over_time": _jobs_over_time(stats),
        "duration_by_type": bar_chart(
            "Average duration by job type (completed jobs)",
            [(d.job_type.value.lower(), d.mean_s) for d in stats.durations],
            value_label=human_duration, y_unit=" s"),
        "success_rate_trend": _rates(stats),
        "resource_utilisation": _resources(stats.resources),
    }
    if any(b.disk_read_mb_s or b.disk_write_mb_s for b in stats.resources):
        charts["disk_throughput"] = _disk(stats.resources)
    return charts


def _day_axis(stats: JobStatistics) -> tuple[list[float], Any]:
    xs = [float(d.day.toordinal()) for d in stats.per_day]
    return xs, lambda x: date.fromordinal(int(x)).strftime("%b %d")


def _jobs_over_time(stats: JobStatistics) -> str:
    xs, label = _day_axis(stats)
    days = stats.per_day
    return line_chart("Jobs over time (per day)", xs, [
        Series("submitted", [d.total for d in days], PALETTE[0]),
        Series("completed", [d.completed for d in days], STATE_COLORS[JobState.COMPLETED]),
        Series("failed", [d.failed for d in days], STATE_COLORS[JobState.FAILED]),
        Series("cancelled", [d.cancelled for d in days], STATE_COLORS[JobState.CANCELLED]),
    ], x_label=label)


def _rates(stats: JobStatistics) -> str:
    xs, label = _day_axis(stats)

    def percent(share: float | None) -> float | None:
        return None if share is None else 100 * share

    return line_chart("Success / failure rate of ended jobs (per day)", xs, [
        Series("success", [percent(d.success_rate) for d in stats.per_day],
               STATE_COLORS[JobState.COMPLETED]),
        Series("failure", [percent(d.failure_rate) for d in stats.per_day],
               STATE_COLORS[JobState.FAILED]),
    ], x_label=label, y_unit=" %", y_max=100)


def _resource_axis(buckets: tuple[ResourceBucket, ...]) -> tuple[list[float], list[int], Any]:
    """Bucket start times, with a gap (index -1) where the monitor was not sampling."""
    xs: list[float] = []
    rows: list[int] = []
    for i, bucket in enumerate(buckets):
        x = bucket.start.timestamp()
        if xs and x - xs[-1] > 1.5 * bucket.width_s:
            xs.append((xs[-1] + x) / 2)
            rows.append(-1)
        xs.append(x)
        rows.append(i)
    span = (xs[-1] - xs[0]) if xs else 0.0
    pattern = "%H:%M:%S" if span < 600 else "%H:%M" if span < 2 * 86400 else "%b %d"
    return xs, rows, lambda x: datetime.fromtimestamp(x, UTC).strftime(pattern)


def _resources(buckets: tuple[ResourceBucket, ...]) -> str:
    xs, rows, label = _resource_axis(buckets)

    def column(name: str) -> list[float | None]:
        return [None if i < 0 else getattr(buckets[i], name) for i in rows]

    series = [Series("CPU", column("cpu_percent"), PALETTE[0]),
              Series("memory", column("memory_percent"), PALETTE[4])]
    if any(b.gpu_percent is not None for b in buckets):
        series.append(Series("GPU", column("gpu_percent"), PALETTE[1]))
    return line_chart("Resource utilisation over time (UTC)", xs, series, x_label=label,
                      y_unit=" %", y_max=100)


def _disk(buckets: tuple[ResourceBucket, ...]) -> str:
    xs, rows, label = _resource_axis(buckets)
    return line_chart("Disk throughput (MB/s)", xs, [
        Series("read", [None if i < 0 else buckets[i].disk_read_mb_s for i in rows],
               PALETTE[5]),
        Series("write", [None if i < 0 else buckets[i].disk_write_mb_s for i in rows],
               PALETTE[6]),
    ], x_label=label)


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
    accuracy = stats.predictions
    cards = [
        ("Total jobs", f"{stats.total_jobs:,}"),
        ("Success rate", human_percent(stats.success_rate)),
        ("Average duration", human_duration(stats.mean_duration_s)),
        ("Traces processed", f"{stats.traces_processed:,}"),
        ("Data processed", human_bytes(stats.bytes_processed)),
        (f"Prediction error ({accuracy.jobs:,} jobs)",
         "-" if accuracy.error_pct is None else f"{accuracy.error_pct:.0f} %"),
    ]
    body = "".join(f"<div class='card'><div class='k'>{escape(k)}</div>"
                   f"<div class='v'>{escape(v)}</div></div>" for k, v in cards)
    return f"<div class='cards'>{body}</div>"


def _tables(stats: JobStatistics) -> str:
    durations = _table("Durations of completed jobs", ["type", "jobs", "mean", "median", "p95"],
                       [[d.job_type.value.lower(), f"{d.jobs:,}", human_duration(d.mean_s),
                         human_duration(d.median_s), human_duration(d.p95_s)]
                        for d in stats.durations])
    processors = _table("Top processors", ["processor", "jobs", "traces"],
                        [[p.processor, f"{p.jobs:,}", f"{p.traces:,}"]
                         for p in stats.processors[:10]])
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
