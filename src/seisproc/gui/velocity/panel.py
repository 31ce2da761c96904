"""Velocity analysis in the desktop app: pick RMS velocities on a location's semblance
while its CMP gather, NMO-corrected with the picks, shows whether they flatten it.

Three plots side by side: the semblance of the location's super-gather (picks and the
Dix interval velocities drawn on it), the CDP's own gather, and that gather after NMO
with the current picks, redrawn as picks are clicked in or dragged. A table beside them
lists each pick's time, RMS and interval velocity. The semblance and the gathers are
computed off the Qt thread, each on a :class:`LatestRequestRunner`, so stepping quickly
through locations or dragging a pick never blocks the window and always ends on the
last request.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seisproc.errors import SeisprocError
from seisproc.gui.velocity.compute import LocationData, load_location, nmo_corrected, survey_cdps
from seisproc.gui.velocity.picks import PickSet
from seisproc.gui.velocity.semblance_plot import SemblancePlot
from seisproc.gui.viewer.runner import LatestRequestRunner
from seisproc.gui.viewer.section import SectionView
from seisproc.jobs.velan import VelanRequest, VelanResult, save_velocity_table
from seisproc.processing.imaging import read_velocity_table

__all__ = ["VelocityAnalysisPanel", "DEFAULT_SCAN"]

DEFAULT_SCAN = VelanRequest(Path(), 1400.0, 4000.0, 20.0, 40.0, 5, 50.0)
"""The scan a SEG-Y file opened directly gets (a panels file brings its own)."""


class VelocityAnalysisPanel(QWidget):
    """The velocity-analysis panel. Open a panels file (``seisproc velan`` without
    ``--auto``) with :meth:`open_panels` or a line with :meth:`open_line`."""

    location_shown = Signal(int)
    """The CDP whose semblance and gather are now drawn."""
    corrected_shown = Signal(int)
    """The CDP whose NMO-corrected gather now shows the current picks."""
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picks = PickSet()
        self.request: VelanRequest | None = None
        self.cdps: list[int] = []
        self.table_path: Path | None = None
        self._computed: dict[int, tuple[np.ndarray, int]] = {}
        self._data: LocationData | None = None
        self._location_runner = LatestRequestRunner(self)
        self._location_runner.finished.connect(self._on_location)
        self._location_runner.failed.connect(self._on_failed)
        self._nmo_runner = LatestRequestRunner(self)
        self._nmo_runner.finished.connect(self._on_corrected)
        self._nmo_runner.failed.connect(self._on_failed)
        self._build()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _build(self) -> None:
        self.file_label = QLabel("Open a velocity-analysis panels file or a SEG-Y line")
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.location_box = QComboBox()
        self.location_box.setMinimumWidth(110)
        self.save_button = QPushButton("Save Picks…")
        self.status = QLabel("")
        self.previous_button.clicked.connect(self.previous_location)
        self.next_button.clicked.connect(self.next_location)
        self.location_box.currentIndexChanged.connect(self._location_chosen)
        self.save_button.clicked.connect(self._choose_save)
        for key, step in (("PgDown", self.next_location), ("PgUp", self.previous_location)):
            shortcut = QShortcut(QKeySequence(key), self, step)  # the viewer's keys too:
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # ours inside
        bar = QHBoxLayout()
        for widget in (
            self.file_label,
            self.previous_button,
            self.location_box,
            self.next_button,
            self.save_button,
        ):
            bar.addWidget(widget)
        bar.insertStretch(1)
        self.semblance = SemblancePlot()
        self.semblance.pick_added.connect(self._add_pick)
        self.semblance.pick_removed.connect(self._remove_pick)
        self.semblance.pick_dragged.connect(self._drag_pick)
        self.gather_view = SectionView("CMP gather")
        self.corrected_view = SectionView("After NMO")
        self.pick_table = QTableWidget(0, 3)
        self.pick_table.setHorizontalHeaderLabels(["Time (ms)", "Vrms (m/s)", "Vint (m/s)"])
        self.pick_table.verticalHeader().setVisible(False)
        self.pick_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.pick_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.pick_table.setMinimumWidth(250)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for plot in (self.semblance, self.gather_view, self.corrected_view, self.pick_table):
            splitter.addWidget(plot)
        splitter.setSizes([400, 320, 320, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._enable(False)

    # --- opening -------------------------------------------------------------------
    def open_panels(self, path: Path) -> None:
        """Open ``seisproc velan`` panels (``.npz``); the picks of a velocity table of the
        same name beside it (``line_vel.csv``) are loaded with them."""
        result = VelanResult.load(Path(path))
        self._computed = {loc.cdp: (loc.semblance, loc.traces) for loc in result.locations}
        table = Path(path).with_suffix(".csv")
        self._open(result.request, [loc.cdp for loc in result.locations], table)
        self.file_label.setText(f"{Path(path).name} ({result.request.input.name})")

    def open_line(
        self, path: Path, cdps: list[int] | None = None, scan: VelanRequest = DEFAULT_SCAN
    ) -> None:
        """Analyse a SEG-Y line here, at ``cdps`` (by default ten spread along it)."""
        keys = survey_cdps(Path(path))
        if cdps is None:
            cdps = sorted({int(keys[round(i)]) for i in np.linspace(0, keys.size - 1, 12)[1:-1]})
        self._computed = {}
        request = VelanRequest(
            Path(path),
            scan.vmin_m_s,
            scan.vmax_m_s,
            scan.vstep_m_s,
            scan.window_ms,
            scan.super_cdps,
            scan.stretch_mute_percent,
        )
        self._open(request, list(cdps), Path(path).with_name(f"{Path(path).stem}_vel.csv"))
        self.file_label.setText(Path(path).name)

    def _open(self, request: VelanRequest, cdps: list[int], table: Path) -> None:
        self.request, self.cdps, self.table_path = request, cdps, table
        self.picks = PickSet.from_table(read_velocity_table(table)) if table.exists() else PickSet()
        self.location_box.blockSignals(True)
        self.location_box.clear()
        self.location_box.addItems([f"CDP {cdp}" for cdp in cdps])
        self.location_box.blockSignals(False)
        self._enable(True)
        self.show_location(0)

    def load_picks(self, path: Path) -> None:
        """Replace the picks with a velocity table's."""
        self.picks = PickSet.from_table(read_velocity_table(Path(path)))
        self._refresh_picks()

    def save_picks(self, path: Path | None = None) -> Path:
        """Write every location's picks as the velocity table CSV (atomically)."""
        target = Path(path) if path is not None else self.table_path
        if target is None:
            raise SeisprocError("no velocity table to save to: open a line first")
        save_velocity_table(target, self.picks.table(source=str(target)), overwrite=True)
        self.table_path = target
        self.status.setText(f"saved {len(self.picks.locations())} locations' picks to {target}")
        return target

    # --- locations -----------------------------------------------------------------
    @property
    def current_cdp(self) -> int | None:
        index = self.location_box.currentIndex()
        return self.cdps[index] if 0 <= index < len(self.cdps) else None

    def show_location(self, index: int) -> None:
        """Show the ``index``-th location (its semblance computed off the Qt thread)."""
        if self.request is None or not 0 <= index < len(self.cdps):
            return
        if self.location_box.currentIndex() != index:
            self.location_box.setCurrentIndex(index)  # comes back through _location_chosen
            return
        cdp = self.cdps[index]
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.cdps) - 1)
        self.status.setText(f"CDP {cdp}: computing the semblance…")
        self._location_runner.submit(
            partial(load_location, self.request, cdp, self._computed.get(cdp))
        )

    def next_location(self) -> None:
        self.show_location(self.location_box.currentIndex() + 1)

    def previous_location(self) -> None:
        self.show_location(self.location_box.currentIndex() - 1)

    def _location_chosen(self, index: int) -> None:
        self.show_location(index)

    def _on_location(self, data: LocationData) -> None:
        if data.cdp != self.current_cdp:
            return
        self._data = data
        self.semblance.set_semblance(data.semblance, data.times_ms, data.velocities_m_s)
        offsets = np.asarray(data.context.offsets_m, dtype=np.float64)
        clip = _clip(data.gather)
        self.gather_view.set_section(
            data.gather,
            offsets,
            "Offset (m)",
            data.context.sample_interval_ms,
            clip,
            f"CDP {data.cdp}",
        )
        traces = f", super-gather of {data.super_traces} traces" if data.super_traces > 0 else ""
        self.status.setText(
            f"CDP {data.cdp}: {len(data.gather)} traces{traces}. Click to "
            "pick, drag a pick to move it, right-click to remove it."
        )
        self._refresh_picks()
        self.location_shown.emit(data.cdp)

    # --- picks ---------------------------------------------------------------------
    def _add_pick(self, time_ms: float, vrms_m_s: float) -> None:
        if self._data is not None:
            self.picks.add(self._data.cdp, time_ms, vrms_m_s)
            self._refresh_picks()

    def _remove_pick(self, which: int) -> None:
        if self._data is not None:
            self.picks.remove(self._data.cdp, which)
            self._refresh_picks()

    def _drag_pick(self, which: int, time_ms: float, vrms_m_s: float, finished: bool) -> None:
        if self._data is not None:
            self.picks.move(self._data.cdp, which, time_ms, vrms_m_s)
            self._refresh_picks()

    def _refresh_picks(self) -> None:
        """Redraw the picks and their table, and ask for the gather corrected with them."""
        data = self._data
        if data is None:
            return
        times, speeds = self.picks.times(data.cdp), self.picks.velocities(data.cdp)
        interval = self.picks.interval_velocities(data.cdp)
        self.semblance.set_picks(times, speeds, interval)
        self.pick_table.setRowCount(times.size)
        for row, values in enumerate(zip(times, speeds, interval, strict=True)):
            for column, value in enumerate(values):
                text = "—" if not np.isfinite(value) else f"{value:.0f}"
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.pick_table.setItem(row, column, item)
        mute = self.request.stretch_mute_percent if self.request else None
        self._nmo_runner.submit(partial(nmo_corrected, data, times, speeds, mute))

    def _on_corrected(self, corrected: np.ndarray) -> None:
        data = self._data
        if data is None or corrected.shape != data.gather.shape:
            return
        self.corrected_view.set_section(
            corrected,
            np.asarray(data.context.offsets_m),
            "Offset (m)",
            data.context.sample_interval_ms,
            _clip(data.gather),
            f"CDP {data.cdp}",
        )
        self.corrected_shown.emit(data.cdp)

    # --- the rest ------------------------------------------------------------------
    def _choose_save(self) -> None:
        start = str(self.table_path or "")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save velocity picks", start, "Velocity table (*.csv)"
        )
        if path:
            try:
                self.save_picks(Path(path))
            except (SeisprocError, OSError) as exc:
                self._on_failed(exc)

    def _on_failed(self, error: BaseException) -> None:
        message = " ".join(str(error).split())
        self.status.setText(f"error: {message}")
        self.failed.emit(message)

    def _enable(self, enabled: bool) -> None:
        for widget in (self.previous_button, self.next_button, self.location_box, self.save_button):
            widget.setEnabled(enabled)

    def shutdown(self) -> None:
        """Stop the computations: before closing, so none reads a file being closed."""
        self._location_runner.shutdown()
        self._nmo_runner.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)


def _clip(gather: np.ndarray) -> float:
    """The 99th percentile of the gather's amplitudes: a few strong samples saturate."""
    live = np.abs(gather[gather != 0])
    return float(np.percentile(live, 99)) if live.size else 1.0
