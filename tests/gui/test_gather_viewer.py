"""The gather viewer: loading, stepping, displays, cursor headers and the flow preview."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt
from viewer_helpers import (
    FRAME_TIMEOUT_MS,
    bandpass_agc_flow,
    processed_by_hand,
    read_gather,
    wait_for_gather,
)

from seisproc.errors import SegyFormatError, SeisprocError
from seisproc.gui.viewer import GatherViewer, LatestRequestRunner, load_frame
from seisproc.gui.viewer.frame import trace_axis
from seisproc.io import gather_index, open_segy
from seisproc.processing.preview import amplitude_spectrum


@pytest.fixture
def viewer(qtbot) -> GatherViewer:
    widget = GatherViewer()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    return widget


@pytest.fixture
def opened(viewer: GatherViewer, small_survey: Path, qtbot) -> GatherViewer:
    with qtbot.waitSignal(viewer.gather_shown, timeout=FRAME_TIMEOUT_MS):
        viewer.open_file(small_survey)
    wait_for_gather(qtbot, viewer, 0)
    return viewer


def _before(viewer: GatherViewer):
    return viewer._sections[0]


def test_opening_a_file_shows_its_first_gather_as_read(opened: GatherViewer,
                                                       small_survey: Path) -> None:
    samples, offsets, dt_ms = read_gather(small_survey, "ffid", 0)
    frame = opened.current_frame
    assert frame is not None and frame.key == "FieldRecord" and frame.key_value == 1001
    np.testing.assert_array_equal(frame.before, samples)
    assert frame.sample_interval_ms == dt_ms == 4.0
    assert frame.x_label == "Offset (m)"
    np.testing.assert_array_equal(frame.x_positions, offsets)
    assert opened._navigator.count == 6
    image = _before(opened).image.image
    assert image is not None and image.shape == (24, 251)


def test_buttons_slider_and_keys_step_through_the_gathers(opened: GatherViewer, qtbot) -> None:
    navigator = opened._navigator
    qtbot.mouseClick(navigator.next_button, Qt.MouseButton.LeftButton)
    wait_for_gather(qtbot, opened, 1)
    navigator.slider.setValue(4)
    wait_for_gather(qtbot, opened, 4)
    assert navigator.number.value() == 5
    section = _before(opened)
    section.setFocus()
    for key, expected in ((Qt.Key.Key_End, 5), (Qt.Key.Key_Home, 0), (Qt.Key.Key_PageDown, 1),
                          (Qt.Key.Key_Right, 2), (Qt.Key.Key_Left, 1),
                          (Qt.Key.Key_PageUp, 0)):
        qtbot.keyClick(section, key)
        wait_for_gather(qtbot, opened, expected)
    assert opened.current_frame is not None and opened.current_frame.key_value == 1001


def test_stepping_stops_at_the_first_and_the_last_gather(opened: GatherViewer, qtbot) -> None:
    opened.previous_gather()
    assert opened.current_gather == 0
    opened.show_gather(99)
    wait_for_gather(qtbot, opened, 5)
    opened.next_gather()
    assert opened.current_gather == 5
    assert not opened._navigator.next_button.isEnabled()


def test_a_new_gather_key_regroups_the_traces(opened: GatherViewer, small_survey: Path,
                                              qtbot) -> None:
    opened.set_gather_key("cdp")
    with open_segy(small_survey) as segy:
        cdps = gather_index(segy, "cdp")
        samples, _ = segy.read(cdps.positions(3))
    assert opened._navigator.count == len(cdps)
    opened.show_gather(3)
    wait_for_gather(qtbot, opened, 3)
    frame = opened.current_frame
    assert frame is not None and frame.key == "CDP" and frame.key_value == cdps.keys[3]
    np.testing.assert_array_equal(frame.before, samples)
    assert opened._key_combo.currentData() == "CDP"


def test_wiggles_fill_the_positive_lobes_only(opened: GatherViewer) -> None:
    opened.set_display("wiggle")
    section = _before(opened)
    assert section.wiggle.isVisible() and not section.image.isVisible()
    frame = opened.current_frame
    assert frame is not None
    data, x = frame.before, frame.x_positions
    trace = 12
    spacing, clip = 25.0, section.clip
    peak, trough = int(np.argmax(data[trace])), int(np.argmin(data[trace]))
    inside_peak = QPointF(x[trace] + 0.5 * spacing * min(data[trace, peak] / clip, 1.0),
                          peak * frame.sample_interval_ms)
    beside_trough = QPointF(x[trace] - 0.5 * spacing * min(-data[trace, trough] / clip, 1.0),
                            trough * frame.sample_interval_ms)
    assert section.wiggle._fill.contains(inside_peak)
    assert not section.wiggle._fill.contains(beside_trough)
    assert section.wiggle._line.elementCount() == data.size
    opened.set_display("density")
    assert section.image.isVisible() and not section.wiggle.isVisible()


def test_clip_percentile_sets_symmetric_colour_levels(opened: GatherViewer) -> None:
    opened.set_clip_percentile(90.0)
    frame = opened.current_frame
    assert frame is not None
    clip = float(np.percentile(np.abs(frame.before), 90.0))
    low, high = _before(opened).image.getLevels()
    assert high == pytest.approx(clip, rel=1e-5) and low == pytest.approx(-clip, rel=1e-5)
    assert _before(opened).colorbar.levels() == (low, high)
    assert opened._clip_spin.value() == 90.0


def test_before_after_follows_every_parameter_change(opened: GatherViewer, small_survey: Path,
                                                      tmp_path: Path, qtbot) -> None:
    samples, offsets, dt_ms = read_gather(small_survey, "ffid", 0)
    with qtbot.waitSignal(opened.preview_updated, timeout=FRAME_TIMEOUT_MS):
        opened.set_flow(bandpass_agc_flow(small_survey, tmp_path, f3=40, f4=60))
    wide = opened.current_frame
    assert wide is not None and wide.after is not None
    expected = processed_by_hand([("bandpass", {"f1": 5, "f2": 10, "f3": 40, "f4": 60}),
                                  ("agc", {"window_ms": 200})], samples, offsets, dt_ms)
    np.testing.assert_allclose(wide.after, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(wide.difference, expected - samples, rtol=1e-4, atol=1e-5)
    after_panel, difference_panel = opened._sections[1:]
    assert after_panel.isVisible() and difference_panel.isVisible()

    with qtbot.waitSignal(opened.preview_updated, timeout=FRAME_TIMEOUT_MS):
        opened.set_flow(bandpass_agc_flow(small_survey, tmp_path, f3=15, f4=20))
    narrow = opened.current_frame
    assert narrow is not None and narrow.after is not None
    expected = processed_by_hand([("bandpass", {"f1": 5, "f2": 10, "f3": 15, "f4": 20}),
                                  ("agc", {"window_ms": 200})], samples, offsets, dt_ms)
    np.testing.assert_allclose(narrow.after, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(after_panel.image.image, narrow.after)
    freqs, _ = amplitude_spectrum(samples, dt_ms)
    curve_x, curve_db = opened._spectrum.after_curve.getData()
    np.testing.assert_allclose(curve_x, freqs)
    above_cut = freqs > 30
    assert curve_db[above_cut].max() < wide.after_db[above_cut].max() - 20


def test_a_flow_that_does_not_fit_the_data_says_why_and_keeps_the_gather(
        opened: GatherViewer, small_survey: Path, tmp_path: Path, qtbot) -> None:
    flow = bandpass_agc_flow(small_survey, tmp_path, f3=100, f4=200)  # Nyquist is 125 Hz
    with qtbot.waitSignal(opened.preview_failed, timeout=FRAME_TIMEOUT_MS) as failed:
        opened.set_flow(flow)
    assert "step 1 (bandpass)" in failed.args[0]
    frame = opened.current_frame
    assert frame is not None and frame.after is None and frame.before.shape == (24, 251)
    assert "step 1 (bandpass)" in opened._status.text()
    with qtbot.waitSignal(opened.gather_shown, timeout=FRAME_TIMEOUT_MS):
        opened.set_flow(None)
    assert not opened._sections[1].isVisible() and opened._status.text() == ""


def test_setting_a_flow_with_no_file_open_opens_its_input(viewer: GatherViewer,
                                                          small_survey: Path,
                                                          tmp_path: Path, qtbot) -> None:
    with qtbot.waitSignal(viewer.preview_updated, timeout=FRAME_TIMEOUT_MS):
        viewer.set_flow(bandpass_agc_flow(small_survey, tmp_path))
    assert viewer.segy is not None and viewer.segy.path == small_survey


def test_the_cursor_over_a_trace_shows_its_headers(opened: GatherViewer, qtbot) -> None:
    section = _before(opened)
    frame = opened.current_frame
    assert frame is not None
    trace, time_ms = 7, 400.0
    scene_point = section.plot.vb.mapViewToScene(QPointF(frame.x_positions[trace], time_ms))
    widget_point = section.mapFromScene(scene_point)
    with qtbot.waitSignal(section.trace_hovered, timeout=FRAME_TIMEOUT_MS) as hovered:
        qtbot.mouseMove(section.viewport(), widget_point)
    assert hovered.args[0] == trace
    assert hovered.args[1] == pytest.approx(time_ms, abs=frame.sample_interval_ms)
    table = opened._header_table
    assert table.value("TraceNumber") == str(trace + 1)
    assert table.value("offset") == str(int(frame.headers["offset"][trace]))
    assert table.value("FieldRecord") == "1001"
    assert "Trace 8 of 24" in table.caption.text()


def test_a_file_opens_on_the_gather_asked_for_by_key_and_value(viewer: GatherViewer,
                                                              small_survey: Path,
                                                              qtbot) -> None:
    with open_segy(small_survey) as segy:
        cdps = gather_index(segy, "cdp")
    viewer.open_file(small_survey, gather_by="cdp", key_value=int(cdps.keys[4]),
                     source="output of job “x”")
    wait_for_gather(qtbot, viewer, 4)
    assert viewer.current_frame.key == "CDP" and viewer._key_combo.currentData() == "CDP"
    assert viewer.title == "small.sgy · output of job “x”"


def test_a_gather_the_file_does_not_have_is_refused_by_name(opened: GatherViewer,
                                                           small_survey: Path) -> None:
    with pytest.raises(SeisprocError, match=r"small\.sgy: no gather with FieldRecord = 77"):
        opened.open_file(small_survey, gather_by="ffid", key_value=77)
    assert opened.current_frame is not None and opened.current_frame.key_value == 1001


def test_an_empty_viewer_says_what_to_do_instead_of_drawing_axes(viewer: GatherViewer,
                                                                 small_survey: Path,
                                                                 qtbot) -> None:
    before = _before(viewer)
    spectrum = viewer._spectrum
    assert before.empty.shown and "Open a SEG-Y file" in before.empty.message
    assert spectrum.empty.shown
    for plot in (before.plot, spectrum.getPlotItem()):  # no "-500 ... 500 (x0.001)"
        assert not any(plot.getAxis(side).isVisible() for side in ("left", "bottom"))
    viewer.open_file(small_survey)
    wait_for_gather(qtbot, viewer, 0)
    assert not before.empty.shown and not spectrum.empty.shown
    assert before.plot.getAxis("left").isVisible()
    assert spectrum.getPlotItem().getAxis("bottom").isVisible()


def test_the_key_to_the_spectra_sits_in_the_title_not_over_the_curves(
        opened: GatherViewer, small_survey: Path, tmp_path: Path, qtbot) -> None:
    spectrum = opened._spectrum
    assert "Before" in spectrum.title and "After" not in spectrum.title
    with qtbot.waitSignal(opened.preview_updated, timeout=FRAME_TIMEOUT_MS):
        opened.set_flow(bandpass_agc_flow(small_survey, tmp_path))
    assert "Before" in spectrum.title and "After" in spectrum.title
    over_the_data = [item for item in spectrum.scene().items()
                     if isinstance(item, pg.LegendItem)
                     or (item.isVisible() and isinstance(item, pg.TextItem))]
    assert not over_the_data


def test_opening_a_file_that_is_not_segy_raises_and_keeps_the_gather(
        opened: GatherViewer, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sgy"
    junk.write_bytes(b"not seismic" * 10)
    with pytest.raises(SegyFormatError):
        opened.open_file(junk)
    assert opened.segy is not None and opened.segy.path.name == "small.sgy"
    assert opened.current_frame is not None


def test_rapid_requests_deliver_only_the_newest_result(qtbot) -> None:
    runner = LatestRequestRunner()
    release = threading.Event()
    delivered: list[int] = []
    runner.finished.connect(delivered.append)

    def blocked() -> int:
        release.wait(5)
        return -1

    runner.submit(blocked)
    for value in range(5):
        runner.submit(lambda value=value: value)
    assert runner.busy
    with qtbot.waitSignal(runner.idle, timeout=FRAME_TIMEOUT_MS):
        release.set()
    assert delivered == [4]
    runner.shutdown()


def test_failures_of_the_newest_request_are_reported(qtbot) -> None:
    runner = LatestRequestRunner()

    def broken() -> None:
        raise OSError("disk gone")

    with qtbot.waitSignal(runner.failed, timeout=FRAME_TIMEOUT_MS) as failed:
        runner.submit(broken)
    assert isinstance(failed.args[0], OSError)
    runner.shutdown()


def test_a_gather_too_large_to_draw_is_cut_short_and_says_so(small_survey: Path) -> None:
    with open_segy(small_survey) as segy:
        one_gather = gather_index(segy, "SourceY")  # the same on every trace
        frame = load_frame(segy, one_gather, 0, max_traces=10)
    assert frame.n_traces == 10 and frame.gather_traces == 6 * 24
    assert all(len(values) == 10 for values in frame.headers.values())


@pytest.mark.parametrize(("offsets", "label"), [
    ([-1188, -1162, -1138, -1112], "Offset (m)"),  # rounded split spread: still even
    ([512, 412, 312, 212], "Offset (m)"),          # a CMP gather, offsets decreasing
    ([100, 100, 200, 200], "Trace"),               # repeated offsets would overlap
    ([0, 0, 0, 0], "Trace"),                       # no offset header
    ([100, 150, 300, 310], "Trace"),               # uneven
    ([250], "Trace"),
])
def test_traces_are_placed_by_offset_only_when_offsets_step_evenly(offsets: list[int],
                                                                   label: str) -> None:
    x, got = trace_axis(np.array(offsets, dtype=float))
    assert got == label
    expected = offsets if label == "Offset (m)" else list(range(1, len(offsets) + 1))
    np.testing.assert_array_equal(x, expected)


def test_a_stacked_section_is_drawn_along_its_cdps() -> None:
    """A stack or a migrated section has offset 0 on every trace: its axis is the CDP."""
    x, label = trace_axis(np.zeros(5), np.array([200, 201, 202, 203, 204]))
    assert label == "CDP"
    np.testing.assert_array_equal(x, [200, 201, 202, 203, 204])
    x, label = trace_axis(np.zeros(3), np.array([7, 7, 7]))  # one CDP: trace numbers
    assert label == "Trace"
    np.testing.assert_array_equal(x, [1, 2, 3])


def test_the_viewer_reads_a_stacked_section_with_cdps_on_its_axis(tmp_path: Path) -> None:
    """A file of one trace per CDP (offset 0), as a stack writes it, gathered as one
    section: the frame's x axis is its CDP numbers."""
    from seisproc.io import SurveyGeometry, synthesize_survey
    from seisproc.io.headers import header_field, write_column
    from seisproc.io.index import build_index

    path = synthesize_survey(tmp_path / "stack.sgy",
                             SurveyGeometry(shots=1, channels=24, samples=101))
    with open_segy(path) as segy:
        layout = segy.layout
    records = np.memmap(path, dtype=layout.record_dtype(), mode="r+",
                        offset=layout.data_offset, shape=(layout.n_traces,))
    write_column(records["header"], header_field("cdp"), np.arange(300, 324), layout.endian)
    write_column(records["header"], header_field("offset"), np.zeros(24), layout.endian)
    records.flush()
    del records
    with open_segy(path) as segy:
        section = build_index(np.zeros(segy.layout.n_traces, dtype=np.int64), "CDP")
        frame = load_frame(segy, section, 0)
    assert frame.x_label == "CDP"
    np.testing.assert_array_equal(frame.x_positions, np.arange(300, 324))
