"""The job dashboard: every job in a table (and by batch), with pause / resume / cancel,
a comparison of two jobs, and details."""

from seisproc.gui.dashboard.batches import BatchTreeModel, BatchTreeView
from seisproc.gui.dashboard.compare import CompareDialog
from seisproc.gui.dashboard.details import JobDetailsPane
from seisproc.gui.dashboard.feed import HistoryFeed
from seisproc.gui.dashboard.model import JobFilterProxy, JobTableModel
from seisproc.gui.dashboard.widget import JobDashboard

__all__ = ["BatchTreeModel", "BatchTreeView", "CompareDialog", "HistoryFeed", "JobDashboard",
           "JobDetailsPane", "JobFilterProxy", "JobTableModel"]
