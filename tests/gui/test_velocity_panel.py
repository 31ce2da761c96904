"""The velocity-analysis panel driven with the mouse: picks clicked onto the semblance at
a line's true velocities flatten its reflections in the NMO-corrected gather, a dragged
pick moves and the correction follows, a right click removes one, the Dix interval
velocities beside the picks are the closed form's, and the picks save as the CSV."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QDockWidget

from seisproc.gui.velocity import PickSet, VelocityAnalysisPanel, open_velocity_analysis
from seisproc.gui.velocity.opening import DOCK_NAME
from seisproc.io.synth import SurveyGeometry
from seisproc.io.synth_geology import LayeredEarth, synthesize_imaging_line
from seisproc.jobs.velan import VelanRequest, VelanResult, analyse_locations
from seisproc.processing.imaging import read_velocity_table

GEOMETRY = SurveyGeometry(shots=24, channels=48, samples=401, dt_ms=4.0)
EARTH = LayeredEarth(dipping=None, diffractor=None, noise=0.0)
CDPS = [40, 50]
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_imaging_line(
        tmp_path_factory.mktemp("velpanel") / "line.sgy", GEOMETRY, earth=EARTH
    )


def _settle(qtbot, panel: VelocityAnalysisPanel) -> None:
    """Let the computations and the redraws they queued finish before the panel goes."""
    qtbot.waitUntil(
        lambda: not (panel._location_runner.busy or panel._nmo_runner.busy), timeout=WAIT_MS
    )
    qtbot.wait(20)
    panel.shutdown()


@pytest.fixture
def panel(qtbot, line: Path) -> VelocityAnalysisPanel:
    widget = VelocityAnalysisPanel()
    qtbot.addWidget(widget, before_close_func=lambda w: _settle(qtbot, w))
    widget.resize(1500, 800)
    widget.show()
    qtbot.waitExposed(widget)
    with qtbot.waitSignal(widget.location_shown, timeout=WAIT_MS):
        widget.open_line(line, CDPS)
    return widget


def _pixel(panel: VelocityAnalysisPanel, time_ms: float, vrms_m_s: float) -> QPoint:
    return panel.semblance.view_to_widget(vrms_m_s, time_ms)


def _click(
    qtbot,
    panel: VelocityAnalysisPanel,
    time_ms: float,
    vrms_m_s: float,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
) -> None:
    with qtbot.waitSignal(panel.corrected_shown, timeout=WAIT_MS):
        qtbot.mouseClick(panel.semblance.viewport(), button, pos=_pixel(panel, time_ms, vrms_m_s))


def _mouse(
    panel: VelocityAnalysisPanel, kind: QEvent.Type, at: QPoint, buttons: Qt.MouseButton
) -> None:
    """A mouse event as the window system sends it, the button held during moves."""
    event = QMouseEvent(
        kind,
        QPointF(at),
        panel.semblance.viewport().mapToGlobal(QPointF(at)),
        Qt.MouseButton.LeftButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(panel.semblance.viewport(), event)


def _flat_within_one_sample(gather: np.ndarray, offsets: np.ndarray, time_ms: float) -> None:
    sample = round(time_ms / GEOMETRY.dt_ms)
    near = np.abs(offsets) <= 600  # not stretch-muted at the first reflector
    window = np.abs(gather[near, sample - 10 : sample + 11])
    assert np.abs(np.argmax(window, axis=1) - 10).max() <= 1


def test_picks_clicked_at_the_true_velocities_flatten_the_gather(qtbot, panel) -> None:
    times, speeds = EARTH.zero_offset_times_ms(), EARTH.rms_velocities_m_s()
    for time_ms, vrms in zip(times, speeds, strict=True):
        _click(qtbot, panel, time_ms, vrms)
    picked_t, picked_v = panel.picks.times(40), panel.picks.velocities(40)
    per_px = panel.semblance.box.viewPixelSize()
    np.testing.assert_allclose(picked_t, times, atol=1.5 * per_px[1])
    np.testing.assert_allclose(picked_v, speeds, atol=1.5 * per_px[0])
    corrected = panel.corrected_view._data
    offsets = np.asarray(panel._data.context.offsets_m)
    for time_ms in times:
        _flat_within_one_sample(corrected, offsets, time_ms)
    # Dix beside the picks: sqrt((t2 v2^2 - t1 v1^2) / (t2 - t1)), the layer velocities
    shown = [float(panel.pick_table.item(row, 2).text()) for row in range(3)]
    closed = [picked_v[0]] + [
        math.sqrt(
            (picked_t[i] * picked_v[i] ** 2 - picked_t[i - 1] * picked_v[i - 1] ** 2)
            / (picked_t[i] - picked_t[i - 1])
        )
        for i in (1, 2)
    ]
    np.testing.assert_allclose(shown, closed, atol=0.5)
    np.testing.assert_allclose(shown, EARTH.velocities_m_s[:3], rtol=0.02)


def test_dragging_a_pick_moves_it_and_the_correction_follows(qtbot, panel) -> None:
    time_ms = EARTH.zero_offset_times_ms()[0]
    _click(qtbot, panel, time_ms, 2400.0)  # too fast: the reflection still curves down
    before = panel.corrected_view._data.copy()
    start, end = _pixel(panel, time_ms, 2400.0), _pixel(panel, time_ms, 1800.0)
    with qtbot.waitSignal(panel.corrected_shown, timeout=WAIT_MS):
        _mouse(panel, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
        for k in range(1, 11):
            _mouse(
                panel,
                QEvent.Type.MouseMove,
                start + (end - start) * (k / 10),
                Qt.MouseButton.LeftButton,
            )
        _mouse(panel, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: not panel._nmo_runner.busy, timeout=WAIT_MS)
    assert panel.picks.times(40).size == 1  # moved, not added
    assert panel.picks.velocities(40)[0] == pytest.approx(
        1800.0, abs=2 * panel.semblance.box.viewPixelSize()[0]
    )
    after = panel.corrected_view._data
    assert not np.array_equal(before, after)
    _flat_within_one_sample(after, np.asarray(panel._data.context.offsets_m), time_ms)


def test_a_right_click_removes_the_pick_under_it(qtbot, panel) -> None:
    _click(qtbot, panel, 600.0, 2000.0)
    _click(qtbot, panel, 900.0, 2100.0)
    _click(qtbot, panel, 600.0, 2000.0, Qt.MouseButton.RightButton)
    assert panel.picks.times(40).tolist() == pytest.approx([900.0], abs=3.0)
    assert panel.pick_table.rowCount() == 1


def test_stepping_between_locations_keeps_each_locations_picks_and_saves_them_all(
    qtbot, panel, tmp_path: Path
) -> None:
    _click(qtbot, panel, 500.0, 1900.0)
    with qtbot.waitSignal(panel.location_shown, timeout=WAIT_MS) as shown:
        panel.next_button.click()
    assert shown.args == [50] and panel.current_cdp == 50
    assert panel.pick_table.rowCount() == 0 and not panel.next_button.isEnabled()
    _click(qtbot, panel, 700.0, 2300.0)
    with qtbot.waitSignal(panel.location_shown, timeout=WAIT_MS):
        qtbot.keyClick(panel, Qt.Key.Key_PageUp)  # the keyboard steps too
    assert panel.pick_table.rowCount() == 1
    saved = panel.save_picks(tmp_path / "line_vel.csv")
    table = read_velocity_table(saved)
    assert table.locations.tolist() == CDPS
    assert table.function(50)[0] == pytest.approx([700.0], abs=3.0)
    assert table.function(50)[1] == pytest.approx([2300.0], abs=20.0)
    assert [p.name for p in tmp_path.iterdir()] == ["line_vel.csv"]  # no partial left


def test_a_panels_file_opens_with_its_semblance_and_the_table_beside_it(
    qtbot, line: Path, tmp_path: Path
) -> None:
    request = VelanRequest(line, 1500.0, 3000.0, 25.0, 40.0, 3)
    locations = analyse_locations(request, [45])
    result = VelanResult(request, locations[0].times_ms, request.velocities_m_s, locations)
    panels = result.save(tmp_path / "line_vel.npz")
    (tmp_path / "line_vel.csv").write_text("cdp,time_ms,vrms_m_s\n45,444,1800\n45,899,2010\n")
    widget = VelocityAnalysisPanel()
    qtbot.addWidget(widget, before_close_func=lambda w: _settle(qtbot, w))
    with qtbot.waitSignal(widget.corrected_shown, timeout=WAIT_MS):
        widget.open_panels(panels)
    assert widget.cdps == [45] and widget.request.vstep_m_s == 25.0
    np.testing.assert_array_equal(widget.semblance.image.image, locations[0].semblance)
    assert widget.pick_table.rowCount() == 2
    assert widget.pick_table.item(1, 1).text() == "2010"
    assert widget.corrected_view._data.any()  # corrected with the two picks read
    _settle(qtbot, widget)


def test_file_velocity_analysis_opens_the_panel_in_a_dock_of_its_own(
    qtbot, idle_manager, line: Path
) -> None:
    from seisproc.gui.main_window import MainWindow

    window = MainWindow(idle_manager)

    def close(w: MainWindow) -> None:
        w.ask_on_quit = lambda count: "cancel"
        _settle(qtbot, w.findChild(VelocityAnalysisPanel))

    qtbot.addWidget(window, before_close_func=close)
    assert window.velocity_action.text() == "&Velocity Analysis…"
    panel = open_velocity_analysis(window, line)
    assert panel is not None
    qtbot.waitSignal(panel.location_shown, timeout=WAIT_MS).wait()
    assert [action.text() for action in window.view_menu.actions()][-1] == "Velocity Analysis"
    assert open_velocity_analysis(window, line) is panel  # one panel, reused
    dock = window.findChild(QDockWidget, DOCK_NAME)
    assert dock is not None and not dock.isHidden()
    _settle(qtbot, panel)


def test_a_pick_dragged_past_its_neighbour_keeps_the_times_increasing() -> None:
    picks = PickSet()
    picks.add(7, 400.0, 1800.0)
    picks.add(7, 800.0, 2200.0)
    assert picks.move(7, 0, 900.0, 2300.0) == 1  # now the second in time
    assert picks.times(7).tolist() == [800.0, 900.0]
    assert picks.velocities(7).tolist() == [2200.0, 2300.0]
    table = picks.table()
    assert table.function(7)[0].tolist() == [800.0, 900.0]
