"""Small reusable widgets: gauge, sparkline, severity icons, alert panel, worker table.

They know nothing of where their data comes from; the panels in :mod:`seisproc.gui`
(the resource monitor, toasts) feed them.
"""

from seisproc.gui.widgets.alert_panel import AlertBadge, AlertPanel, AlertTracker, RecentAlertsList
from seisproc.gui.widgets.format import format_bytes, short_id
from seisproc.gui.widgets.gauge import Gauge
from seisproc.gui.widgets.severity import (
    SEVERITIES,
    alert_severity,
    normalize_severity,
    paint_severity_icon,
    severity_color,
    severity_label,
    severity_pixmap,
    severity_rank,
)
from seisproc.gui.widgets.sparkline import Sparkline
from seisproc.gui.widgets.worker_table import WORKER_COLUMNS, WorkerTableModel

__all__ = [
    "SEVERITIES",
    "WORKER_COLUMNS",
    "AlertBadge",
    "AlertPanel",
    "AlertTracker",
    "Gauge",
    "RecentAlertsList",
    "Sparkline",
    "WorkerTableModel",
    "alert_severity",
    "format_bytes",
    "normalize_severity",
    "paint_severity_icon",
    "severity_color",
    "severity_label",
    "severity_pixmap",
    "severity_rank",
    "short_id",
]
