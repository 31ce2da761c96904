"""Colours the desktop application shares: one colour per job state, one per series.

They are the HTML report's colours (:data:`seisproc.analytics.charts.STATE_COLORS`,
:data:`seisproc.analytics.charts.PALETTE`), so a failed job is the same red in the job
table, the analytics charts and the exported report. Functions return a new ``QColor``
each call: ``QColor`` is mutable, and a shared instance changed by one widget would
recolour all the others.

>>> state_color(JobState.FAILED).name()
'#d64541'
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from seisproc.analytics.charts import PALETTE, STATE_COLORS
from seisproc.jobs.model import JobState, JobType

__all__ = ["SERIES_HEX", "STATE_HEX", "TYPE_HEX", "series_color", "state_color", "type_color"]

STATE_HEX: dict[JobState, str] = dict(STATE_COLORS)
"""``#rrggbb`` per job state, every state present."""
SERIES_HEX: tuple[str, ...] = PALETTE
"""Colours for series that are not job states (CPU, memory, …), in order."""
TYPE_HEX: dict[JobType, str] = {
    JobType.PROCESSING: PALETTE[0], JobType.QC: PALETTE[4], JobType.INDEX: PALETTE[5],
    JobType.EXPORT: PALETTE[6]}
"""``#rrggbb`` per job type: none is a state's green or red, so a bar of failed-looking
red never stands for a job type."""


def state_color(state: JobState) -> QColor:
    """The colour that stands for ``state`` everywhere in the application."""
    return QColor(STATE_HEX[JobState(state)])


def series_color(index: int) -> QColor:
    """The ``index``-th series colour, cycling when there are more series than colours."""
    return QColor(SERIES_HEX[index % len(SERIES_HEX)])


def type_color(job_type: JobType) -> QColor:
    """The colour that stands for ``job_type`` in charts."""
    return QColor(TYPE_HEX[JobType(job_type)])
