"""The live QC strip: series per gather, red counters, the last gather's thumbnail, and
a strip fed live by a running job through the bridge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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


def test_the_series_follow_the_gathers_with_the_nan_gathers_marked(strip: QcStrip) -> None:
    strip.show_qc(job_qc())
    series = strip.series()
    x, rms = series["rms"]
    assert list(x) == [1, 2, 3, 4, 5, 6]
    assert np.allclose(rms, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5])
    hz = series["dominant_hz"][1]
    assert np.isnan(hz[1]) and list(hz[[0, 2, 3, 4, 5]]) == [20, 22, 23, 24, 25]
    assert list(series["non_finite"][0]) == [5]  # the fifth gather carries NaN


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


def test_an_empty_strip_says_there_is_nothing_yet(strip: QcStrip) -> None:
    strip.show_qc(job_qc())
    strip.clear()
    assert strip.thumbnail_caption.text() == "no gather yet"
    assert strip.image.image is None
    assert strip.gathers_label.text() == "0" and strip.last_label.text() == "no QC yet"
    assert len(strip.series()["rms"][0]) == 0


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
