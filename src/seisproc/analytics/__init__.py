"""Job analytics: statistics from the history turned into reports (HTML with charts, CSV,
JSON) and charts the GUI reuses.

The figures themselves are computed in SQL by
:meth:`seisproc.history.JobHistoryStorage.get_statistics`; this package only presents
them, so it needs neither a database driver nor Qt.

>>> from seisproc.engine import open_store                         # doctest: +SKIP
>>> export_report(open_store().get_statistics(30), "report.html")  # doctest: +SKIP
"""

from seisproc.analytics.charts import Series, Slice, bar_chart, line_chart, pie_chart
from seisproc.analytics.format import human_bytes, human_clock, human_duration, human_percent
from seisproc.analytics.report import (
    FORMATS,
    export_report,
    render_csv,
    render_html,
    render_json,
    report_charts,
)

__all__ = [
    "FORMATS",
    "Series",
    "Slice",
    "bar_chart",
    "export_report",
    "human_bytes",
    "human_clock",
    "human_duration",
    "human_percent",
    "line_chart",
    "pie_chart",
    "render_csv",
    "render_html",
    "render_json",
    "report_charts",
]
