"""The gather viewer's parameter test: pick a parameter of the flow being edited, give
values, and see the gather on screen after each one, side by side with one shared clip.
Each panel is checked against the processor applied here by hand; and a SectionView
deleted with a refit pending does not fire into a dead widget.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shiboken6
from viewer_helpers import (
    FRAME_TIMEOUT_MS,
    bandpass_agc_flow,
    processed_by_hand,
    read_gather,
    wait_for_gather,
)

from seisproc.gui.viewer import GatherViewer
from seisproc.gui.viewer.parameter_test import parameter_choices
from seisproc.gui.viewer.section import SectionView


@pytest.fixture
def viewer(qtbot, small_survey: Path, tmp_path: Path) -> GatherViewer:
    """The viewer on the small survey's third shot, previewing bandpass + AGC."""
    widget = GatherViewer()
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    with qtbot.waitSignal(widget.gather_shown, timeout=FRAME_TIMEOUT_MS):
        widget.open_file(small_survey)
    widget.set_flow(bandpass_agc_flow(small_survey, tmp_path))
    widget.show_gather(2)
    wait_for_gather(qtbot, widget, 2)
    widget.test_button.click()
    assert widget.parameter_test.isVisible()
    return widget


def test_the_chooser_offers_every_parameter_of_the_flows_steps(viewer: GatherViewer) -> None:
    test = viewer.parameter_test
    offered = [test.parameter.itemText(n) for n in range(test.parameter.count())]
    assert offered == parameter_choices(viewer.flow)
    assert {"bandpass.f3", "agc.window_ms"} <= set(offered)


def test_three_agc_windows_show_side_by_side_with_one_shared_clip(
        qtbot, viewer: GatherViewer, small_survey: Path) -> None:
    test = viewer.parameter_test
    test.parameter.setCurrentText("agc.window_ms")
    test.values.setText("50, 200, 800")
    with qtbot.waitSignal(test.shown, timeout=10_000):
        test.run_button.click()
    result = test.result
    assert result is not None
    assert result.labels == ["agc.window_ms=50", "agc.window_ms=200", "agc.window_ms=800"]
    samples, offsets, dt_ms = read_gather(small_survey, "FieldRecord", 2)
    bandpass = {"f1": 5, "f2": 10, "f3": 40.0, "f4": 60.0}
    by_hand = [processed_by_hand([("bandpass", bandpass), ("agc", {"window_ms": w})],
                                 samples, offsets, dt_ms) for w in (50, 200, 800)]
    for panel, expected in zip(result.panels, by_hand, strict=True):
        assert panel.key_value == viewer.current_frame.key_value
        np.testing.assert_allclose(panel.samples, expected, rtol=1e-4, atol=1e-5)
    everything = np.abs(np.concatenate([e.ravel() for e in by_hand]))
    assert result.clip == pytest.approx(np.percentile(everything, 99.0), rel=1e-4)
    shown = [s for s in test.sections if s.isVisible()]
    assert len(shown) == 3 and {s.clip for s in shown} == {result.clip}
    assert [s.title for s in shown] == result.labels


def test_fewer_values_hide_the_extra_panels(qtbot, viewer: GatherViewer) -> None:
    test = viewer.parameter_test
    test.parameter.setCurrentText("agc.window_ms")
    test.values.setText("50,200,800")
    with qtbot.waitSignal(test.shown, timeout=10_000):
        test.run()
    test.values.setText("100,300")
    with qtbot.waitSignal(test.shown, timeout=10_000):
        test.run()
    assert [s.isVisible() for s in test.sections] == [True, True, False]


def test_a_value_the_processor_refuses_is_named_and_nothing_is_drawn(
        qtbot, viewer: GatherViewer) -> None:
    test = viewer.parameter_test
    test.parameter.setCurrentText("agc.window_ms")
    test.values.setText("200,-5")
    with qtbot.waitSignal(test.failed, timeout=10_000) as failure:
        test.run()
    assert "-5" in failure.args[0] and "window_ms" in failure.args[0]
    assert test.result is None and test.status.text() == failure.args[0]


def test_the_viewer_grouped_by_another_key_than_the_flow_says_so(
        qtbot, viewer: GatherViewer) -> None:
    viewer.set_gather_key("offset")
    wait_for_gather(qtbot, viewer, 0)
    test = viewer.parameter_test
    test.values.setText("100")
    with qtbot.waitSignal(test.failed, timeout=2_000) as failure:
        test.run()
    assert failure.args[0] == ("the viewer groups by offset, the flow by ffid: show the "
                               "flow's gathers to test it")


def test_a_section_deleted_before_its_queued_refit_does_not_raise(qtbot) -> None:
    section = SectionView("Before")
    section.set_section(np.ones((4, 10), np.float32), np.arange(4.0), "trace", 4.0, 1.0)
    assert section._refit_timer.isActive()  # the first picture queues a refit
    shiboken6.delete(section)  # the C++ widget goes now, as when its dock is closed
    qtbot.wait(20)  # a bare QTimer.singleShot would fire into the dead widget and raise
