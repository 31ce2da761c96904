"""The job dashboard: every job in a table, with pause / resume / cancel and details."""

from seisproc.gui.dashboard.details import JobDetailsPane
from seisproc.gui.dashboard.feed import HistoryFeed
from seisproc.gui.dashboard.model import JobFilterProxy, JobTableModel
from seisproc.gui.dashboard.widget import JobDashboard

__all__ = ["HistoryFeed", "JobDashboard", "JobDetailsPane", "JobFilterProxy", "JobTableModel"]
