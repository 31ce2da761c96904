"""The analytics view (View → Analytics): how the job history turned out, as charts.

Summary cards, then seven charts: jobs by status, jobs over time, average duration by
job type, the success / failure rate trend, resource utilisation, the most used
processors and predicted against actual durations. A period selector picks the last 7,
30, 90 or 365 days, or any range of whole UTC days.

The figures are those of ``seisproc report`` (the same statistics, computed in SQL by the
store), and :meth:`JobAnalyticsWidget.export_report` writes the very report the CLI
writes. Queries never run on the GUI thread: :meth:`JobAnalyticsWidget.refresh` hands
them to a worker thread and the result comes back through a queued signal; a refresh
overtaken by a newer one is dropped, so a period changed twice in a row never shows the
older figures last.

What it shows is the history as it is: it re-reads each time it is shown and, while
shown, when jobs change (:meth:`JobAnalyticsWidget.history_changed`, the dashboard's
change feed), at most once per :data:`CHANGE_REFRESH_MS`; an export reads the history
at the moment it writes, never the figures on screen.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from seisproc.analytics import export_report as write_report
from seisproc.analytics.figures import (
    duration_bars,
    outcomes_per_day,
    rates_per_day,
    resource_series,
    status_slices,
    summary_figures,
    top_processors,
)
from seisproc.analytics.format import human_duration
from seisproc.gui.analytics.cards import SummaryCards
from seisproc.gui.analytics.charts import (
    CHART_WIDTH,
    BarChart,
    LineChart,
    PieChart,
    ScatterChart,
    ScatterGroup,
    StackedBarChart,
)
from seisproc.gui.analytics.data import AnalyticsSnapshot, DateRange, load_snapshot
from seisproc.gui.analytics.layout import ReflowGrid
from seisproc.gui.palette import TYPE_HEX
from seisproc.history import JobHistoryStorage, JobStatistics
from seisproc.jobs.model import JobType, utcnow

__all__ = ["CHANGE_REFRESH_MS", "PRESET_DAYS", "JobAnalyticsWidget"]

PRESET_DAYS = (7, 30, 90, 365)
CHANGE_REFRESH_MS = 2_000
"""While shown, jobs changing re-read the history at most this often, and at most once per
ten times the last read took: the statistics of a million jobs cost a query of a second
or two on a worker (``benchmarks/history_scale.py``), so a busy history then costs the
view a tenth of a core at most, never a core."""
_READS_PER_COST = 10
_CUSTOM = 0
_EARLIEST = QDate(2000, 1, 1)


class _Results(QObject):
    """Carries a worker's result to the GUI thread (queued: it is emitted off it).

    Parentless on purpose: the worker holds it, so it outlives a widget closed while a
    query runs, and Qt drops the delivery to the destroyed receiver.
    """

    loaded = Signal(int, object)
    failed = Signal(int, str)
    exported = Signal(str)
    export_failed = Signal(str, str)


class JobAnalyticsWidget(QWidget):
    """Charts and summary figures of the job history in ``store``.

    Parameters
    ----------
    store
        The history to read; shared with the rest of the application (the store is
        thread-safe, and this widget only reads).
    days
        The period shown first: one of :data:`PRESET_DAYS`.

    Signals
    -------
    refreshed()
        A refresh's figures are on screen.
    refresh_failed(str)
        A refresh could not read the history; the message says why.
    exported(str)
        The Export button's report is written, at this path.

    Examples
    --------
    >>> view = JobAnalyticsWidget(open_store())         # doctest: +SKIP
    >>> view.refreshed.connect(lambda: print(view.statistics.total_jobs))  # doctest: +SKIP
    >>> view.refresh()                                   # doctest: +SKIP
    >>> view.export_report("analytics.html")             # doctest: +SKIP
    PosixPath('analytics.html')
    """

    refreshed = Signal()
    refresh_failed = Signal(str)
    exported = Signal(str)

    def __init__(self, store: JobHistoryStorage, parent: QWidget | None = None, *,
                 days: int = 30) -> None:
        super().__init__(parent)
        self._store = store
        self._snapshot: AnalyticsSnapshot | None = None
        self._generation = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._results = _Results()
        self._results.loaded.connect(self._apply)
        self._results.failed.connect(self._fail)
        self._results.exported.connect(self._exported)
        self._results.export_failed.connect(self._export_failed)
        self._changed = QTimer(self)  # jobs changed while shown: one re-read per interval
        self._changed.setSingleShot(True)
        self._changed.setInterval(CHANGE_REFRESH_MS)
        self._changed.timeout.connect(self._refresh_if_shown)
        self._refresh_started = 0.0
        self._refresh_cost_s = 0.0
        self.cards = SummaryCards()
        self._build_charts()
        layout = QVBoxLayout(self)
        period, actions = self._build_period_bar(days)
        layout.addLayout(period)
        layout.addLayout(actions)  # the status on a line of its own: "read at" shows whole
        self.scroll_area = self._scrolled_content()
        layout.addWidget(self.scroll_area, 1)

    # --- public API -------------------------------------------------------------------
    @property
    def snapshot(self) -> AnalyticsSnapshot | None:
        """What is on screen: the last refresh's figures (``None`` before the first)."""
        return self._snapshot

    @property
    def statistics(self) -> JobStatistics | None:
        return None if self._snapshot is None else self._snapshot.statistics

    def date_range(self) -> DateRange:
        """The period selected now (a preset ends today, UTC)."""
        days = self.period.currentData()
        if days != _CUSTOM:
            return DateRange.last_days(days)
        return DateRange(_to_date(self.date_from.date()), _to_date(self.date_to.date()))

    def set_period(self, days: int) -> None:
        """Select the preset "last ``days`` days" (one of :data:`PRESET_DAYS`)."""
        index = self.period.findData(days)
        if days == _CUSTOM or index < 0:
            raise ValueError(f"no preset of {days} days; presets: {PRESET_DAYS}")
        self.period.setCurrentIndex(index)

    def set_custom_range(self, first: date, last: date) -> None:
        """Select the whole UTC days ``first`` to ``last`` and refresh."""
        date_range = DateRange(first, last)
        self.period.blockSignals(True)
        self.period.setCurrentIndex(self.period.findData(_CUSTOM))
        self.period.blockSignals(False)
        self._show_range(date_range, editable=True)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the history for the selected period, on a worker thread.

        Returns at once; :attr:`refreshed` (or :attr:`refresh_failed`) follows.
        """
        self._generation += 1
        generation, date_range = self._generation, self.date_range()
        store, results = self._store, self._results
        self._pool.clear()  # a queued, not yet started refresh is already out of date

        def load() -> None:
            try:
                snapshot = load_snapshot(store, date_range)
            except Exception as exc:  # any failure must reach the GUI, not die in a thread
                results.failed.emit(generation, f"{type(exc).__name__}: {exc}")
            else:
                results.loaded.emit(generation, snapshot)

        self._say("Loading…")
        self._refresh_started = time.perf_counter()
        self._pool.start(load)

    def export_report(self, path: str | Path) -> Path:
        """Write the analytics report of the selected period to ``path``, as
        ``seisproc report --days N --out path`` does: one self-contained HTML file with
        the charts (or CSV / JSON when the suffix says so). Returns the path written.

        Reads the history now, on the calling thread (the Export button calls it on a
        worker): the report holds the jobs as they are when it is written, whatever the
        figures on screen were read.
        """
        return _write_report(self._store, self.date_range(), path)

    @Slot()
    def history_changed(self) -> None:
        """Jobs changed (the dashboard's change feed): re-read soon if shown, else on the
        next show."""
        if not self._changed.isActive():
            self._changed.start(max(CHANGE_REFRESH_MS,
                                    round(1000 * _READS_PER_COST * self._refresh_cost_s)))

    def _refresh_if_shown(self) -> None:
        if self.isVisible():
            self.refresh()

    def wait_for_refresh(self, timeout_ms: int = 30_000) -> bool:
        """Block until no query is running (for shutdown: the store may then close)."""
        return self._pool.waitForDone(timeout_ms)

    # --- construction -----------------------------------------------------------------
    def _build_period_bar(self, days: int) -> tuple[QHBoxLayout, QHBoxLayout]:
        """The period's row, then the status with the buttons: two short rows, so a
        narrow dock is not held wide by one long one."""
        self.period = QComboBox()
        for preset in PRESET_DAYS:
            self.period.addItem(f"Last {preset} days", preset)
        self.period.addItem("Custom range", _CUSTOM)
        self.date_from, self.date_to = QDateEdit(), QDateEdit()
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDateRange(_EARLIEST, _to_qdate(utcnow().date()))
        self.status = QLabel()
        # Long messages (an error, a path) must not widen a docked view: clip instead.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        refresh = QPushButton("Refresh")
        export = QPushButton("Export report…")
        bar = QHBoxLayout()
        for widget in (QLabel("Period:"), self.period, QLabel("from"), self.date_from,
                       QLabel("to"), self.date_to):
            bar.addWidget(widget)
        for edit in (self.date_from, self.date_to):
            edit.setToolTip("Whole UTC days")
        bar.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.status, 1)
        actions.addWidget(refresh)
        actions.addWidget(export)
        self.set_period(days)
        self._show_range(self.date_range(), editable=False)
        self.period.currentIndexChanged.connect(self._period_changed)
        self.date_from.dateChanged.connect(self._dates_edited)
        self.date_to.dateChanged.connect(self._dates_edited)
        refresh.clicked.connect(self.refresh)
        export.clicked.connect(self._ask_export)
        return bar, actions

    def _build_charts(self) -> None:
        self.status_chart = PieChart("Jobs by status")
        self.jobs_chart = StackedBarChart("Jobs over time (submitted per day, by outcome)",
                                          y_label="jobs")
        self.rate_chart = LineChart("Success / failure rate of ended jobs (per day)",
                                    y_label="% of ended jobs", y_max=100)
        self.duration_chart = BarChart(
            "Average duration by job type (completed jobs)", value_label="mean duration",
            value_text=human_duration, scale=_duration_scale)
        self.resource_chart = LineChart("Resource utilisation over time (mean per interval)",
                                        y_label="utilisation (%)", x_label="time (UTC)",
                                        y_max=100)
        self.processor_chart = BarChart("Top processors by usage", value_label="jobs",
                                        horizontal=True)
        self.prediction_chart = ScatterChart(
            "Predicted vs actual duration (completed jobs)",
            x_label="predicted duration (s)", y_label="actual duration (s)")

    def _scrolled_content(self) -> QScrollArea:
        """Cards and charts in as many columns as the view's width holds (three at the
        full width of a 1400 px window, one in a narrow dock): never wider than the view,
        scrolling down only when it is too short for the rows."""
        self.charts = ReflowGrid(CHART_WIDTH, max_columns=3)
        for chart, span in ((self.status_chart, 1), (self.jobs_chart, 2),
                            (self.rate_chart, 1), (self.resource_chart, 2),
                            (self.duration_chart, 1), (self.processor_chart, 1),
                            (self.prediction_chart, 1)):
            self.charts.add(chart, span)
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        column.addWidget(self.cards)
        column.addWidget(self.charts, 1)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(content)
        area.viewport().installEventFilter(self)
        return area

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.scroll_area.viewport():
            width = self.scroll_area.viewport().width()
            self.cards.reflow(width)
            self.charts.reflow(width)
        return super().eventFilter(watched, event)

    # --- period selection -------------------------------------------------------------
    @Slot(int)
    def _period_changed(self, _index: int) -> None:
        # A preset shows its days; "custom" starts from the days shown and unlocks them.
        self._show_range(self.date_range(), editable=self.period.currentData() == _CUSTOM)
        self.refresh()

    @Slot(QDate)
    def _dates_edited(self, _date: QDate) -> None:
        if self.date_to.date() < self.date_from.date():
            self._show_range(DateRange(_to_date(self.date_from.date()),
                                       _to_date(self.date_from.date())), editable=True)
        self.refresh()

    def _show_range(self, date_range: DateRange, *, editable: bool) -> None:
        for edit, day in ((self.date_from, date_range.first), (self.date_to, date_range.last)):
            edit.blockSignals(True)
            edit.setDate(_to_qdate(day))
            edit.setEnabled(editable)
            edit.blockSignals(False)

    # --- results ----------------------------------------------------------------------
    @Slot(int, object)
    def _apply(self, generation: int, snapshot: AnalyticsSnapshot) -> None:
        if generation != self._generation:
            return  # overtaken by a newer refresh
        self._refresh_cost_s = time.perf_counter() - self._refresh_started
        self._snapshot = snapshot
        stats = snapshot.statistics
        self.cards.set_figures(summary_figures(stats))
        self.status_chart.set_slices(status_slices(stats))
        self.jobs_chart.set_series(*outcomes_per_day(stats))
        self.rate_chart.set_series(*rates_per_day(stats))
        self.duration_chart.set_bars(duration_bars(stats), [
            TYPE_HEX[d.job_type] for d in stats.durations])
        self.resource_chart.set_series(*resource_series(stats))
        self.processor_chart.set_bars([(name, jobs) for name, jobs, _ in top_processors(stats)])
        self._show_predictions(snapshot)
        rng = snapshot.date_range
        self._say(f"{stats.total_jobs:,} jobs, {rng.first} to {rng.last} · "
                  f"read {snapshot.read_at:%H:%M:%S} UTC")
        self.refreshed.emit()

    def _show_predictions(self, snapshot: AnalyticsSnapshot) -> None:
        groups: list[ScatterGroup] = []
        for job_type in JobType:
            points = [p for p in snapshot.predictions if p.job_type is job_type]
            if points:
                groups.append((job_type.value.lower(), TYPE_HEX[job_type],
                               [p.predicted_s for p in points], [p.actual_s for p in points]))
        self.prediction_chart.set_groups(groups)
        accuracy = snapshot.statistics.predictions
        note = ("" if accuracy.error_pct is None else
                f": {accuracy.error_pct:.0f} % off over {accuracy.jobs:,} jobs")
        self.prediction_chart.title.setText(
            f"Predicted vs actual duration (completed jobs){note}")

    @Slot(int, str)
    def _fail(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._say(f"Could not read the job history: {message}")
        self.refresh_failed.emit(message)

    @Slot()
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export analytics report", "seisproc-report.html",
            "HTML report (*.html);;CSV (*.csv);;JSON (*.json)")
        if not path:
            return
        self._say("Writing the report…")
        store, date_range, results = self._store, self.date_range(), self._results

        def export() -> None:
            try:
                written = _write_report(store, date_range, path)
            except Exception as exc:  # a full disk, a lost database: say so in the window
                results.export_failed.emit(path, f"{type(exc).__name__}: {exc}")
            else:
                results.exported.emit(str(written))

        threading.Thread(target=export, name="seisproc-analytics-export", daemon=True).start()

    @Slot(str)
    def _exported(self, path: str) -> None:
        self._say(f"Report written to {path}")
        self.exported.emit(path)

    @Slot(str, str)
    def _export_failed(self, path: str, message: str) -> None:
        self._say(f"Export failed: {message}")
        QMessageBox.warning(self, "Export failed", f"Could not write {path}: {message}")

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)  # the label clips when the view is narrow

    def showEvent(self, event: QShowEvent) -> None:
        """Each time it is shown (its tab picked, its panel opened) it re-reads the
        history: nothing is queried for a view nobody looks at, and nothing shown is
        older than the moment it was opened."""
        super().showEvent(event)
        if not event.spontaneous():  # a window restored from the taskbar keeps its figures
            self.refresh()


def _write_report(store: JobHistoryStorage, date_range: DateRange, path: str | Path) -> Path:
    """The report of ``date_range`` as the history is now (blocking)."""
    statistics = store.get_statistics(date_range.days, now=date_range.end(utcnow()))
    return write_report(statistics, path)


def _duration_scale(longest_s: float) -> tuple[float, str]:
    """Seconds, minutes or hours for a duration axis, by its longest bar."""
    if longest_s >= 7_200:
        return 3_600.0, "h"
    if longest_s >= 120:
        return 60.0, "min"
    return 1.0, "s"


def _to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _to_date(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())
