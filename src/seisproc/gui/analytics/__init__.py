"""The analytics view: the job history's statistics as summary cards and charts.

>>> from seisproc.engine import open_store                   # doctest: +SKIP
>>> view = JobAnalyticsWidget(open_store())                  # doctest: +SKIP
"""

from seisproc.gui.analytics.cards import SummaryCard, SummaryCards
from seisproc.gui.analytics.charts import (
    BarChart,
    ChartPanel,
    Legend,
    LineChart,
    PieChart,
    ScatterChart,
)
from seisproc.gui.analytics.data import AnalyticsSnapshot, DateRange, PredictionPoint, load_snapshot
from seisproc.gui.analytics.widget import PRESET_DAYS, JobAnalyticsWidget

__all__ = [
    "PRESET_DAYS",
    "AnalyticsSnapshot",
    "BarChart",
    "ChartPanel",
    "DateRange",
    "JobAnalyticsWidget",
    "Legend",
    "LineChart",
    "PieChart",
    "PredictionPoint",
    "ScatterChart",
    "SummaryCard",
    "SummaryCards",
    "load_snapshot",
]
