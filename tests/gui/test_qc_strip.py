"""The live QC strip: series along the gathers' header values, red counters, the last
gather's thumbnail, clicks that ask for a gather, an empty state without axes, and a
strip fed live by a running job through the bridge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from seisproc.gui.bridge import CoalescingBridge
from seisproc.gui.palette import STATE_HEX
from seisproc.gui.qc_strip import QcStrip
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.jobs.qc import GatherQc, JobQc, Thumbnail
from seisproc.processing.flow import Flow

RED = STATE_HEX[JobState.FAILED]


@pytest.fixture
def strip(qtbot) -> QcStrip:
    widget = QcStrip()
    qtbot.addWidget(widget)
    return widget


def job_qc() -> JobQc:
    gathers = [GatherQc(1000 + k, 48, 1.0 + 0.1 * k, 2 if k == 3 else 0,
                        5 if k == 4 else 0, None if k == 1 else 20.0 + k) for k in range(6)]
    picture = Thumbnail(1005, 16.0, np.linspace(-1, 1, 48 * 32, dtype=np.float32)
                        .reshape(48, 32))
    return JobQc().extend(gathers, picture)


def show_laid_out(qtbot, strip: QcStrip, qc: JobQc) -> None:
    """Show ``strip`` drawing ``qc``, once its charts have their final geometry (the
    points are where a click lands)."""
    strip.resize(900, 220)
    strip.show_qc(qc)
    strip.show()
    qtbot.waitExposed(strip)
    first = int(qc.gathers[0].key_value)
    qtbot.waitUntil(lambda: all(
        chart.viewport().rect().contains(strip.point_position(first, name).toPoint())
        for name, chart in (("rms", strip.rms_plot), ("hz", strip.hz_plot))))


def test_the_series_follow_the_gathers_with_the_nan_gathers_marked(strip: QcStrip) -> None:
    strip.show_qc(job_qc())
    series = strip.series()
    x, rms = series["rms"]
    assert list(x) == [1000, 1001, 1002, 1003, 1004, 1005]
    assert np.allclose(rms, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5])
    hz = series["dominant_hz"][1]
    assert np.isnan(hz[1]) and list(hz[[0, 2, 3, 4, 5]]) == [20, 22, 23, 24, 25]
    assert list(series["non_finite"][0]) == [1004]  # the fifth gather carries NaN


def test_gathers_processed_out_of_order_or_again_draw_once_in_header_order(
        strip: QcStrip) -> None:
    late_unit_first = [GatherQc(1003, 48, 3.0, 0, 0, 30.0), GatherQc(1001, 48, 1.0, 0, 0, 30.0),
                       GatherQc(1002, 48, 2.0, 0, 0, 30.0), GatherQc(1001, 48, 9.0, 0, 0, 30.0)]
    strip.show_qc(JobQc().extend(late_unit_first))
    x, rms = strip.series()["rms"]
    assert list(x) == [1001, 1002, 1003] and list(rms) == [9.0, 2.0, 3.0]  # the rerun's


def test_the_lower_chart_has_a_gather_axis_with_the_header_values(qtbot, strip: QcStrip
                                                                  ) -> None:
    strip.show_qc(job_qc())
    strip.show()
    qtbot.waitExposed(strip)
    axis = strip.hz_plot.getPlotItem().getAxis("bottom")
    assert axis.isVisible() and "gather" in axis.labelText
    ticks = [value for level in axis.tickValues(1000, 1005, 400) for value in level[1]]
    assert ticks and all(1000 <= t <= 1005 for t in ticks)
    assert axis.range[0] <= 1000 and axis.range[1] >= 1005


@pytest.mark.parametrize("chart", ["rms", "hz"])
def test_clicking_a_point_asks_for_that_gather(qtbot, strip: QcStrip, chart: str) -> None:
    show_laid_out(qtbot, strip, job_qc())
    widget = strip.rms_plot if chart == "rms" else strip.hz_plot
    point = strip.point_position(1002, chart).toPoint()
    with qtbot.waitSignal(strip.gather_clicked, timeout=1_000) as clicked:
        qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert clicked.args == [1002]


def test_a_click_far_from_every_point_asks_for_nothing(qtbot, strip: QcStrip) -> None:
    show_laid_out(qtbot, strip, JobQc().extend([GatherQc(1000, 48, 1.0, 0, 0, 20.0),
                                                GatherQc(1100, 48, 1.0, 0, 0, 20.0)]))
    left, right = (strip.point_position(k) for k in (1000, 1100))
    middle = ((left + right) / 2).toPoint()
    with qtbot.assertNotEmitted(strip.gather_clicked):
        qtbot.mouseClick(strip.rms_plot.viewport(), Qt.MouseButton.LeftButton, pos=middle)


def test_clicking_the_thumbnail_asks_for_the_last_gather(qtbot, strip: QcStrip) -> None:
    show_laid_out(qtbot, strip, job_qc())
    centre = strip.thumbnail_view.viewport().rect().center()
    with qtbot.waitSignal(strip.gather_clicked, timeout=1_000) as clicked:
        qtbot.mouseClick(strip.thumbnail_view.viewport(), Qt.MouseButton.LeftButton,
                         pos=centre)
    assert clicked.args == [1005]


def test_counters_turn_red_above_zero(strip: QcStrip) -> None:
    strip.show_qc(job_qc())
    assert strip.gathers_label.text() == "6"
    assert (strip.dead_label.text(), strip.non_finite_label.text()) == ("2", "5")
    assert RED in strip.dead_label.styleSheet() and strip.non_finite_label.property("alert")
    strip.show_qc(JobQc().extend([GatherQc(1, 48, 1.0, 0, 0, 30.0)]))
    assert strip.non_finite_label.text() == "0"
    assert RED not in strip.non_finite_label.styleSheet()
    assert not strip.non_finite_label.property("alert")
    assert strip.last_label.text() == "last: RMS 1, 30 Hz"


def test_the_last_gather_shows_as_a_thumbnail_with_its_key(strip: QcStrip) -> None:
    qc = job_qc()
    strip.show_qc(qc)
    assert qc.thumbnail is not None
    assert np.array_equal(strip.image.image, qc.thumbnail.data)
    assert strip.image.getLevels() == pytest.approx((-1.0, 1.0))
    assert strip.thumbnail_caption.text() == "last gather 1005 · 48 traces"


def test_an_empty_strip_says_there_is_nothing_yet_without_axes(strip: QcStrip) -> None:
    strip.show_qc(job_qc())
    strip.clear()
    assert strip.thumbnail_caption.text() == "no gather yet"
    assert strip.image.image is None
    assert strip.gathers_label.text() == "0" and strip.last_label.text() == "no QC yet"
    assert len(strip.series()["rms"][0]) == 0
    for chart in (strip.rms_plot, strip.hz_plot):  # no "-500 ... 500 (x0.001)"
        plot = chart.getPlotItem()
        assert not any(plot.getAxis(side).isVisible() for side in ("left", "bottom"))
    assert strip.chart_message() == "no gathers processed yet"
    strip.show_qc(job_qc())
    assert strip.chart_message() == ""
    assert strip.hz_plot.getPlotItem().getAxis("bottom").isVisible()


def test_a_running_job_feeds_the_strip_through_the_bridge(qtbot, strip: QcStrip,
                                                          small_survey: Path,
                                                          tmp_path: Path) -> None:
    manager = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                         CheckpointStore(tmp_path / "ck"), gathers_per_unit=1)
    bridge: CoalescingBridge[JobEvent] = CoalescingBridge(interval_ms=20)
    manager.subscribe(lambda e: bridge.post(e) if e.kind is JobEventKind.UNIT_COMPLETED
                      else None)
    bridge.delivered.connect(lambda batch: strip.show_qc(manager.qc(batch[-1].job.id)))
    flow = Flow.from_mapping({"name": "live", "input": str(small_survey),
                              "output": str(tmp_path / "out.sgy"),
                              "steps": [{"agc": {"window_ms": 200}}]})
    try:
        manager.submit(flow)
        qtbot.waitUntil(lambda: strip.gathers_label.text() == "6", timeout=30_000)
    finally:
        manager.close(active="cancel")
    assert len(strip.series()["rms"][0]) == 6
    assert strip.image.image is not None
    assert strip.non_finite_label.text() == "0"
