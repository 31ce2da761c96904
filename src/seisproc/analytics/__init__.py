"""Job analytics: statistics from the history turned into reports (HTML with charts, CSV,
JSON) and charts the GUI reuses.

The figures themselves are computed in SQL by
:meth:`seisproc.history.JobHistoryStorage.get_statistics`; this package only presents
them, so it needs neither a database driver nor Qt.

>>> from seisproc.engine import open_store                         # doctest: +SKIP
>>> export_report(open_store().get_statistics(30), "report.html")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

_HOME_OF = {
    **dict.fromkeys(("Series", "Slice", "bar_chart", "line_chart", "pie_chart"),
                    "seisproc.analytics.charts"),
    **dict.fromkeys(("human_bytes", "human_clock", "human_duration", "human_percent"),
                    "seisproc.analytics.format"),
    **dict.fromkeys(("FORMATS", "export_report", "render_csv", "render_html", "render_json",
                     "report_charts"), "seisproc.analytics.report"),
}

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


def __getattr__(name: str) -> object:
    """Each name loads its module on first use: ``seisproc jobs`` needs one formatting
    function of ``format.py``, and importing the package used to load the report's
    charts and the history's statistics with it (1.2 s of the command's 2.3 s)."""
    if name in _HOME_OF:
        value = getattr(importlib.import_module(_HOME_OF[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'seisproc.analytics' has no attribute {name!r}")
