"""The analytics view on a real SQLite history: summary, charts, period, export, threads.

Expected figures are computed here from the generated jobs themselves, not from the
store, so a wrong SQL aggregate or a wrong mapping onto a chart both fail.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from analytics_helpers import GeneratedHistory, populate_history
from click.testing import CliRunner
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget

from seisproc.analytics.format import human_duration, human_percent
from seisproc.cli.main import cli
from seisproc.gui.analytics import JobAnalyticsWidget
from seisproc.gui.analytics import widget as analytics_widget
from seisproc.gui.palette import state_color, type_color
from seisproc.history import JobHistoryStorage, JobStatistics
from seisproc.jobs.model import Job, JobState, JobType, utcnow

ENDED = (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


class RecordingStore(JobHistoryStorage):
    """The real store, noting which thread asked for statistics."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.statistics_threads: list[int] = []

    def get_statistics(self, days: int = 30, *, now: datetime | None = None) -> JobStatistics:
        self.statistics_threads.append(threading.get_ident())
        return super().get_statistics(days, now=now)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[RecordingStore, GeneratedHistory]]:
    store = RecordingStore(f"sqlite:///{tmp_path / 'history.db'}")
    generated = populate_history(store, tmp_path / "surveys", days=6, jobs_per_day=14)
    yield store, generated
    store.close()


@pytest.fixture
def view(qtbot: Any, history: tuple[RecordingStore, GeneratedHistory]
         ) -> Iterator[JobAnalyticsWidget]:
    """The view, shown at screenshot size, with its first refresh (on show) done."""
    widget = JobAnalyticsWidget(history[0], days=7)
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.show()
    yield widget
    widget.wait_for_refresh()


def test_analytics_shows_summary(view: JobAnalyticsWidget,
                                 history: tuple[RecordingStore, GeneratedHistory]) -> None:
    jobs = history[1].jobs
    states = Counter(job.state for job in jobs)
    completed = [job.duration_s or 0.0 for job in jobs if job.state is JobState.COMPLETED]

    cards = view.cards.figures()

    assert cards["Total jobs"] == f"{len(jobs):,}"
    assert cards["Success rate"] == human_percent(
        states[JobState.COMPLETED] / sum(states[s] for s in ENDED))
    assert cards["Average duration"] == human_duration(sum(completed) / len(completed))
    assert cards["Traces processed"] == f"{sum(j.progress.traces_done for j in jobs):,}"
    assert f"{len(jobs):,} jobs" in view.status.text()


def test_analytics_charts_render(view: JobAnalyticsWidget, qtbot: Any,
                                 history: tuple[RecordingStore, GeneratedHistory]) -> None:
    generated = history[1]
    jobs = generated.jobs
    states = Counter(job.state for job in jobs)
    charts = [view.status_chart, view.jobs_chart, view.rate_chart, view.duration_chart,
              view.resource_chart, view.processor_chart, view.prediction_chart]
    assert all(chart.has_data for chart in charts), [c.title.text() for c in charts
                                                     if not c.has_data]

    assert {s.label: s.value for s in view.status_chart.slices()} == {
        state.value.lower(): n for state, n in states.items()}
    assert view.status_chart.legend.entries()[0].startswith(
        f"completed  {states[JobState.COMPLETED]}")

    per_day = view.jobs_chart.series()
    assert list(per_day) == ["completed", "failed", "cancelled", "not ended"]
    assert sum(v or 0 for day in per_day.values() for v in day) == len(jobs)
    assert sum(v or 0 for v in per_day["failed"]) == states[JobState.FAILED]
    assert len(per_day["completed"]) == 7, "one bar per day of the period"
    rates = view.rate_chart.series()
    assert all(v is None or 0 <= v <= 100 for v in rates["success"])

    assert {label for label, _ in view.duration_chart.bars()} == {
        job.type.value.lower() for job in jobs if job.state is JobState.COMPLETED}
    usage = Counter(name for job in jobs for name in {next(iter(s)) for s in job.flow["steps"]})
    ranked = sorted(usage.items(), key=lambda item: (-item[1], item[0]))
    assert view.processor_chart.bars() == ranked[:10]
    assert {"CPU", "memory", "GPU"} <= set(view.resource_chart.series())
    assert any(v is not None for v in view.resource_chart.series()["CPU"])
    assert view.prediction_chart.point_count() == len(generated.predicted)

    # Drawn, not just held: each state's colour covers pixels in proportion to its jobs.
    completed, failed = (_pixels(view.status_chart, state_color(state))
                         for state in (JobState.COMPLETED, JobState.FAILED))
    assert failed > 0 and completed / failed == pytest.approx(
        states[JobState.COMPLETED] / states[JobState.FAILED], rel=0.25)
    assert _pixels(view.jobs_chart.plot, state_color(JobState.COMPLETED)) > 500
    assert _pixels(view.duration_chart.plot, type_color(JobType.PROCESSING)) > 200


def test_analytics_export_works(view: JobAnalyticsWidget, tmp_path: Path,
                                history: tuple[RecordingStore, GeneratedHistory]) -> None:
    written = view.export_report(tmp_path / "gui.html")
    result = CliRunner().invoke(cli, ["report", "--out", str(tmp_path / "cli.html"),
                                      "--days", "7", "--database-url", history[0].url])
    assert result.exit_code == 0, result.output

    html = written.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 5
    assert f"<div class='v'>{len(history[1].jobs)}</div>" in html

    def undated(text: str) -> str:  # the two were generated at (slightly) different times
        return re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "generated", text)

    assert undated(html) == undated((tmp_path / "cli.html").read_text(encoding="utf-8"))


def test_refresh_queries_off_the_gui_thread_and_updates_on_it(
        view: JobAnalyticsWidget, qtbot: Any,
        history: tuple[RecordingStore, GeneratedHistory]) -> None:
    store = history[0]
    updated_on: list[int] = []
    original = view.cards.set_figures
    view.cards.set_figures = lambda figures: (updated_on.append(threading.get_ident()),
                                              original(figures))[1]
    store.statistics_threads.clear()
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.refresh()
    gui = threading.get_ident()
    assert store.statistics_threads and gui not in store.statistics_threads
    assert updated_on == [gui]


def test_custom_range_counts_only_its_days(view: JobAnalyticsWidget, qtbot: Any,
                                           history: tuple[RecordingStore, GeneratedHistory]
                                           ) -> None:
    today = utcnow().date()
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.set_custom_range(first, last)
    expected = history[1].in_days(datetime.combine(first, time(), UTC),
                                  datetime.combine(today, time(), UTC))
    assert view.cards.figures()["Total jobs"] == f"{len(expected):,}"
    assert len(view.jobs_chart.series()["completed"]) == 3
    assert view.date_from.isEnabled() and view.date_from.date().day() == first.day

    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.set_period(30)
    assert view.cards.figures()["Total jobs"] == f"{len(history[1].jobs):,}"
    assert not view.date_from.isEnabled()


def test_a_refresh_overtaken_by_a_newer_one_is_not_shown(
        view: JobAnalyticsWidget, qtbot: Any) -> None:
    shown: list[int] = []
    view.refreshed.connect(lambda: shown.append(view.statistics.days))
    view.set_period(365)  # starts a refresh...
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.set_period(90)  # ...overtaken at once
    view.wait_for_refresh()
    qtbot.wait(50)
    assert shown == [90]


def test_a_history_that_cannot_be_read_says_why(qtbot: Any, tmp_path: Path) -> None:
    class BrokenStore(JobHistoryStorage):
        def get_statistics(self, days: int = 30, *,
                           now: datetime | None = None) -> JobStatistics:
            raise OSError("disk I/O error")

    store = BrokenStore(f"sqlite:///{tmp_path / 'history.db'}")
    widget = JobAnalyticsWidget(store)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refresh_failed, timeout=10_000) as failed:
        widget.refresh()
    widget.wait_for_refresh()
    store.close()
    assert failed.args == ["OSError: disk I/O error"]
    assert "disk I/O error" in widget.status.text() and widget.statistics is None


def _pixels(widget: QWidget, color: QColor, tolerance: int = 12) -> int:
    """Pixels of ``widget``'s rendering within ``tolerance`` of ``color``."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    target = (color.red(), color.green(), color.blue())
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if all(abs(a - b) <= tolerance for a, b in
                   zip((pixel.red(), pixel.green(), pixel.blue()), target, strict=True)):
                count += 1
    return count


def test_an_empty_history_shows_no_data_notes_not_broken_charts(qtbot: Any,
                                                                 tmp_path: Path) -> None:
    store = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    widget = JobAnalyticsWidget(store, days=7)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.show()
    widget.wait_for_refresh()
    store.close()
    cards = widget.cards.figures()
    assert (cards["Total jobs"], cards["Success rate"], cards["Average duration"]) == (
        "0", "-", "-")
    charts = [widget.status_chart, widget.jobs_chart, widget.rate_chart,
              widget.duration_chart, widget.resource_chart, widget.processor_chart,
              widget.prediction_chart]
    assert not any(chart.has_data for chart in charts)


# ---------------------------------------------------------------------- always the history now
def _save_late_job(store: JobHistoryStorage, n: int = 1) -> None:
    """A job another process saves after the view was read."""
    store.save_job(Job(id=f"1a7e{n:08d}", name=f"saved later {n}", owner="ws2:99"))


def test_the_view_rereads_the_history_each_time_it_is_shown(
        view: JobAnalyticsWidget, qtbot: Any,
        history: tuple[RecordingStore, GeneratedHistory]) -> None:
    before = view.statistics.total_jobs
    _save_late_job(history[0])
    view.hide()
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.show()
    assert view.statistics.total_jobs == before + 1
    assert f"{before + 1:,} jobs" in view.status.text()


def test_jobs_changing_while_shown_refresh_it_once_per_interval_and_not_while_hidden(
        qtbot: Any, history: tuple[RecordingStore, GeneratedHistory],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics_widget, "CHANGE_REFRESH_MS", 200)
    store = history[0]
    widget = JobAnalyticsWidget(store, days=7)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.show()
    before = widget.statistics.total_jobs
    totals: list[int] = []
    widget.refreshed.connect(lambda: totals.append(widget.statistics.total_jobs))
    _save_late_job(store)
    for _ in range(5):  # a burst of the feed's deliveries
        widget.history_changed()
    qtbot.waitUntil(lambda: bool(totals), timeout=10_000)
    qtbot.wait(600)
    assert totals == [before + 1]

    widget.hide()
    reads = len(store.statistics_threads)
    _save_late_job(store, 2)
    widget.history_changed()
    qtbot.wait(600)
    assert len(store.statistics_threads) == reads  # nobody looks: nothing is read
    widget.wait_for_refresh()


def test_export_writes_the_history_as_it_is_when_written_not_what_is_on_screen(
        view: JobAnalyticsWidget, tmp_path: Path,
        history: tuple[RecordingStore, GeneratedHistory]) -> None:
    on_screen = view.statistics.total_jobs
    _save_late_job(history[0])
    written = view.export_report(tmp_path / "now.json")
    assert json.loads(written.read_text())["total_jobs"] == on_screen + 1


# ---------------------------------------------------------------------- room
@pytest.mark.parametrize(("width", "columns"), [(1400, 3), (800, 2), (560, 1)])
def test_the_charts_take_the_columns_the_width_holds_and_never_scroll_sideways(
        view: JobAnalyticsWidget, qtbot: Any, width: int, columns: int) -> None:
    view.resize(width, 900)
    qtbot.waitUntil(lambda: view.charts.columns == columns, timeout=2_000)
    area = view.scroll_area
    qtbot.waitUntil(lambda: area.widget().width() <= area.viewport().width(), timeout=2_000)
    assert area.horizontalScrollBar().maximum() == 0


def test_at_the_width_of_a_1400_px_window_everything_fits_and_the_status_reads_whole(
        view: JobAnalyticsWidget, qtbot: Any) -> None:
    view.resize(1400, 780)
    qtbot.waitUntil(lambda: view.charts.columns == 3, timeout=2_000)
    qtbot.wait(50)
    assert view.scroll_area.verticalScrollBar().maximum() == 0
    assert view.scroll_area.horizontalScrollBar().maximum() == 0
    status = view.status
    assert "read" in status.text()
    assert status.fontMetrics().horizontalAdvance(status.text()) <= status.width()
