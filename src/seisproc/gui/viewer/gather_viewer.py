"""The gather viewer: browse a SEG-Y gather by gather, and preview a flow on each one.

Without a flow it shows the gather as read. With one (:meth:`GatherViewer.set_flow`, which
the flow editor calls on every edit) it shows before, after and the difference side by
side, with both spectra, and recomputes whenever the flow changes. Reading and
processing run on a worker thread through a :class:`LatestRequestRunner`, so dragging the
slider or a parameter never stalls the window: the display follows the last request.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from seisproc.errors import SeisprocError
from seisproc.gui.viewer.elided_label import ElidedLabel
from seisproc.gui.viewer.frame import GatherFrame, clip_value, load_frame
from seisproc.gui.viewer.header_table import TraceHeaderTable
from seisproc.gui.viewer.navigator import GatherNavigator
from seisproc.gui.viewer.parameter_test import ParameterTestPanel
from seisproc.gui.viewer.runner import LatestRequestRunner
from seisproc.gui.viewer.section import DISPLAY_MODES, SectionView
from seisproc.gui.viewer.spectrum import SpectrumView
from seisproc.io.headers import header_field
from seisproc.io.index import GatherIndex, gather_index
from seisproc.io.segy import SegyFile, open_segy
from seisproc.processing.base import Processor
from seisproc.processing.flow import Flow

__all__ = ["GatherViewer", "GATHER_KEYS"]

GATHER_KEYS: tuple[tuple[str, str], ...] = (
    ("FFID", "FieldRecord"),
    ("CDP", "CDP"),
    ("Offset", "offset"),
    ("Channel", "TraceNumber"),
    ("Source point", "EnergySourcePoint"),
    ("Inline", "INLINE_3D"),
    ("Crossline", "CROSSLINE_3D"),
)
"""Keys offered in the "Gather by" box: what a person calls it, segyio's name."""


class GatherViewer(QWidget):
    """Browse the gathers of a SEG-Y file and preview a flow on them.

    Signals: ``gather_shown(int)`` once a gather (0-based) is on screen;
    ``preview_updated()`` once the after/difference panels show the current flow;
    ``preview_failed(str)`` when the flow cannot run on the gather (the reason).

    >>> viewer = GatherViewer()                          # doctest: +SKIP
    >>> viewer.open_file("shots.sgy")                    # doctest: +SKIP
    >>> viewer.set_flow(load_flow("bandpass-agc.yaml"))  # doctest: +SKIP
    """

    gather_shown = Signal(int)
    preview_updated = Signal()
    preview_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._segy: SegyFile | None = None
        self._index: GatherIndex | None = None
        self._retired: list[SegyFile] = []
        self._flow: Flow | None = None
        self._processors: list[Processor] | None = None
        self._frame: GatherFrame | None = None
        self._current = 0
        self._display = "density"
        self._clip_percentile = 99.0
        self._hovered: tuple[int, float | None] = (0, None)
        self._runner = LatestRequestRunner(self)
        self._runner.finished.connect(self._show_frame)
        self._runner.failed.connect(self._show_read_error)
        self._runner.idle.connect(self._close_retired)
        self._build()
        self._install_shortcuts()

    # --- state --------------------------------------------------------------------
    @property
    def segy(self) -> SegyFile | None:
        return self._segy

    @property
    def gathers(self) -> GatherIndex | None:
        """The gather index of the open file by the current key."""
        return self._index

    @property
    def current_gather(self) -> int:
        """The gather asked for last (0-based); :attr:`current_frame` may still lag."""
        return self._current

    @property
    def current_frame(self) -> GatherFrame | None:
        """What is on screen now."""
        return self._frame

    @property
    def flow(self) -> Flow | None:
        return self._flow

    @property
    def display(self) -> str:
        return self._display

    @property
    def clip_percentile(self) -> float:
        return self._clip_percentile

    @property
    def busy(self) -> bool:
        """Whether a gather is being read or processed."""
        return self._runner.busy

    # --- public API ---------------------------------------------------------------
    def open_file(self, path: str | os.PathLike[str], *, gather_by: str | None = None,
                  key_value: int | None = None, source: str = "") -> None:
        """Open a SEG-Y file and show a gather: the first one by the current key, or the
        one whose ``gather_by`` header (any name :func:`~seisproc.io.header_field` takes)
        is ``key_value``.

        ``source`` says where the file comes from ("output of job …"), after its name.
        Raises :class:`~seisproc.errors.SeisprocError` (the file is not SEG-Y, has no
        such key or no such gather) and leaves the viewer as it was.
        """
        field = header_field(gather_by) if gather_by else None
        segy = open_segy(path)
        try:
            index = gather_index(segy, field.name if field else self._key_combo.currentData())
            first = 0 if key_value is None else _find_gather(index, key_value, segy.path)
        except BaseException:
            segy.close()
            raise
        if field is not None:
            self._select_key(field.name)
        if self._segy is not None:
            self._retired.append(self._segy)
        self._segy, self._index = segy, index
        self._file_label.setText(f"{segy.path.name} · {source}" if source else segy.path.name)
        self._file_label.setToolTip("\n".join(filter(None, (source, str(segy.path), repr(segy)))))
        self._navigator.set_count(len(index))
        self._header_table.clear_trace()
        self.show_gather(first)

    @property
    def title(self) -> str:
        """The file shown and where it comes from, as the viewer's first line says."""
        return self._file_label.text()

    def set_gather_key(self, name: str) -> None:
        """Group traces by header ``name`` (any name :func:`~seisproc.io.header_field`
        takes: ``ffid``, ``cdp``, ``offset``, ``189``…) and show the first gather."""
        field = header_field(name)
        self._select_key(field.name)
        if self._segy is not None:
            self._index = gather_index(self._segy, field.name)
            self._navigator.set_count(len(self._index))
            self.show_gather(0)

    def _select_key(self, key: str) -> None:
        """Show ``key`` (a segyio name) in the "Gather by" box without regrouping."""
        position = self._key_combo.findData(key)
        if position < 0:
            self._key_combo.addItem(key, key)
            position = self._key_combo.count() - 1
        with QSignalBlocker(self._key_combo):
            self._key_combo.setCurrentIndex(position)

    def show_gather(self, index: int) -> None:
        """Show gather ``index`` (0-based, held within the file); ``gather_shown`` follows."""
        if self._index is None or not len(self._index):
            return
        self._current = min(max(int(index), 0), len(self._index) - 1)
        self._navigator.set_current(self._current)
        self._request()

    def next_gather(self) -> None:
        self.show_gather(self._current + 1)

    def previous_gather(self) -> None:
        self.show_gather(self._current - 1)

    def set_display(self, mode: str) -> None:
        """``"density"`` (variable density) or ``"wiggle"`` (filled positive lobes)."""
        if mode not in DISPLAY_MODES:
            raise ValueError(f"display must be one of {DISPLAY_MODES}; got {mode!r}")
        self._display = mode
        self._display_combo.blockSignals(True)
        self._display_combo.setCurrentIndex(DISPLAY_MODES.index(mode))
        self._display_combo.blockSignals(False)
        for section in self._sections:
            section.set_display(mode)

    def set_clip_percentile(self, percentile: float) -> None:
        """Saturate each panel at this percentile of its absolute amplitudes (50-100)."""
        self._clip_percentile = min(max(float(percentile), 50.0), 100.0)
        self._clip_spin.blockSignals(True)
        self._clip_spin.setValue(self._clip_percentile)
        self._clip_spin.blockSignals(False)
        if self._frame is not None:
            self._draw_sections(self._frame, reset=False)

    def set_flow(self, flow: Flow | None) -> None:
        """Preview ``flow`` on the current gather (``None``: show the gather as read).

        With no file open, opens the flow's input. Every call recomputes the after and
        difference panels and the spectra: connect the flow editor's change signal here.
        """
        self._flow = flow
        try:
            self._processors = flow.processors() if flow is not None else None
        except SeisprocError as exc:
            self._processors = None
            self._set_status(f"Flow {flow.name if flow else ''}: {exc}", error=True)
            self.preview_failed.emit(str(exc))
            return
        self.parameter_test.set_flow(flow)
        self._flow_label.setText(_describe_flow(flow))
        self._flow_label.setToolTip(_describe_flow(flow))
        for section in self._sections[1:]:
            section.setVisible(flow is not None)
        if self._segy is None and flow is not None and Path(flow.input).is_file():
            self.open_file(flow.input)
        else:
            self._request()

    def show_trace_headers(self, trace: int, time_ms: float | None = None) -> None:
        """Show the headers of ``trace`` (0-based) of the gather on screen."""
        if self._frame is None or not 0 <= trace < self._frame.n_traces:
            return
        self._hovered = (trace, time_ms)
        self._header_table.show_trace(self._frame, trace, time_ms)

    def open_dialog(self) -> None:
        """Ask for a SEG-Y file and open it; a file that cannot be opened is explained."""
        path, _ = QFileDialog.getOpenFileName(self, "Open SEG-Y", "",
                                              "SEG-Y (*.sgy *.segy *.SGY *.SEGY);;All (*)")
        if path:
            try:
                self.open_file(path)
            except SeisprocError as exc:
                QMessageBox.warning(self, "Cannot open the file", str(exc))

    def shutdown(self) -> None:
        """Stop the worker and close the files; the viewer shows nothing new after it."""
        self._runner.shutdown()
        self.parameter_test.shutdown()
        for segy in (*self._retired, *([self._segy] if self._segy else [])):
            segy.close()
        self._retired.clear()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)

    # --- requests and results -----------------------------------------------------
    def _request(self) -> None:
        segy, index, gather = self._segy, self._index, self._current
        if segy is None or index is None or not len(index):
            return
        processors: Sequence[Processor] | None = self._processors
        self._set_status("Reading…" if processors is None else "Processing…")
        self._runner.submit(lambda: load_frame(segy, index, gather, processors))

    @Slot(object)
    def _show_frame(self, frame: GatherFrame) -> None:
        reset = self._frame is None or self._frame.before.shape != frame.before.shape
        self._frame = frame
        traces = (f"first {frame.n_traces} of {frame.gather_traces} traces"
                  if frame.gather_traces > frame.n_traces else f"{frame.n_traces} traces")
        self._gather_label.setText(
            f"{_key_label(frame.key)} {frame.key_value}  ·  {traces}  ·  "
            f"{frame.before.shape[1]} samples at {frame.sample_interval_ms:g} ms")
        self._draw_sections(frame, reset)
        self.parameter_test.set_gather(frame.key, frame.key_value)
        self._spectrum.set_spectra(frame.spectrum_hz, frame.before_db, frame.after_db)
        trace, time_ms = self._hovered
        self.show_trace_headers(min(trace, frame.n_traces - 1), time_ms)
        self._set_status(f"Flow failed: {frame.error}" if frame.error else "",
                         error=frame.error is not None)
        self.gather_shown.emit(frame.gather)
        if frame.error is not None:
            self.preview_failed.emit(frame.error)
        elif frame.after is not None:
            self.preview_updated.emit()

    @Slot(object)
    def _show_read_error(self, error: BaseException) -> None:
        self._set_status(f"Cannot read the gather: {error}", error=True)

    @Slot()
    def _close_retired(self) -> None:
        while self._retired:
            self._retired.pop().close()

    def _draw_sections(self, frame: GatherFrame, reset: bool) -> None:
        before, after, difference = self._sections
        panels = [(before, frame.before, f"{_key_label(frame.key)} {frame.key_value}")]
        if frame.after is not None and frame.difference is not None:
            panels += [(after, frame.after, ""), (difference, frame.difference, "")]
        elif self._flow is not None:
            after.blank("The flow failed on this gather (see below)" if frame.error else "")
            difference.blank()
        for section, data, label in panels:
            clip = clip_value(data, self._clip_percentile)
            subtitle = f"{label} · clip ±{clip:.3g}" if label else f"clip ±{clip:.3g}"
            if reset or section.mode != self._display:
                section.set_display(self._display)
            section.set_section(data, frame.x_positions, frame.x_label,
                                frame.sample_interval_ms, clip, subtitle)

    # --- building -----------------------------------------------------------------
    def _build(self) -> None:
        self._file_label = ElidedLabel("No file open", min_chars=10)
        self._flow_label = ElidedLabel(_describe_flow(None), min_chars=10)
        self._gather_label = ElidedLabel(min_chars=10)
        self._status = QLabel()
        self._status.setWordWrap(True)
        self._key_combo = QComboBox()
        self._key_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._key_combo.setMinimumContentsLength(14)  # "FFID (FieldRecord)"; longer ones elide
        for label, key in GATHER_KEYS:
            self._key_combo.addItem(f"{label} ({key})" if label.lower() != key.lower()
                                    else label, key)
        self._key_combo.currentIndexChanged.connect(
            lambda _: self._change_key(self._key_combo.currentData()))
        self._display_combo = QComboBox()
        self._display_combo.addItems(["Variable density", "Wiggle"])
        self._display_combo.currentIndexChanged.connect(
            lambda i: self.set_display(DISPLAY_MODES[i]))
        self._clip_spin = QDoubleSpinBox()
        self._clip_spin.setRange(50.0, 100.0)
        self._clip_spin.setDecimals(1)
        self._clip_spin.setSingleStep(0.5)
        self._clip_spin.setSuffix(" %")
        self._clip_spin.setValue(self._clip_percentile)
        self._clip_spin.setToolTip("Clip: the display saturates at this percentile of |amplitude|")
        self._clip_spin.valueChanged.connect(self.set_clip_percentile)
        self._navigator = GatherNavigator()
        self._navigator.gather_requested.connect(self.show_gather)
        self._sections = (SectionView("Before"), SectionView("After"),
                          SectionView("Difference", amplitude_label="After − before"))
        for section in self._sections:
            section.trace_hovered.connect(self.show_trace_headers)
        for section in self._sections[1:]:
            section.plot.setXLink(self._sections[0].plot)
            section.plot.setYLink(self._sections[0].plot)
            section.setVisible(False)
        self._sections[0].blank("Open a SEG-Y file to see its gathers")
        self._spectrum = SpectrumView()
        self._header_table = TraceHeaderTable()
        self.parameter_test = ParameterTestPanel()
        """Pick a parameter, give values, look (shown by the "Test parameter" button)."""
        self.parameter_test.setVisible(False)
        self._lay_out()

    def _lay_out(self) -> None:
        """Two rows of controls over the panels: what is open and where in it (file, flow,
        gather), then how it is drawn (key, display, clip) beside the gather's figures.

        The labels elide, so the controls set the viewer's minimum width (about 600 px):
        a long file or flow name never pushes them out of a narrow dock.
        """
        open_button = QPushButton("Open…")
        open_button.clicked.connect(self.open_dialog)
        top = QHBoxLayout()
        top.addWidget(open_button)
        top.addWidget(self._file_label)  # as wide as its text while there is room
        top.addWidget(self._flow_label, stretch=1)
        top.addWidget(self._navigator, stretch=1)
        self.test_button = QPushButton("Test parameter")
        self.test_button.setCheckable(True)
        self.test_button.toggled.connect(self.parameter_test.setVisible)
        top.addWidget(self.test_button)
        self.display_controls = QWidget()
        """Gather by, Display and Clip: how the gathers are grouped and drawn."""
        controls = QHBoxLayout(self.display_controls)
        controls.setContentsMargins(0, 0, 0, 0)
        for caption, widget in (("Gather by", self._key_combo),
                                ("Display", self._display_combo), ("Clip", self._clip_spin)):
            controls.addWidget(QLabel(caption))
            controls.addWidget(widget)
        second = QHBoxLayout()
        second.addWidget(self.display_controls)
        second.addSpacing(12)
        second.addWidget(self._gather_label, stretch=1)
        sections = QWidget()
        row = QHBoxLayout(sections)
        row.setContentsMargins(0, 0, 0, 0)
        for section in self._sections:
            row.addWidget(section)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(sections)
        left.addWidget(self._spectrum)
        left.addWidget(self.parameter_test)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        left.setStretchFactor(2, 3)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(self._header_table)
        main.setStretchFactor(0, 5)
        main.setStretchFactor(1, 1)
        for splitter in (left, main):  # dragged to nothing, a panel looks like a bug
            splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(main, stretch=1)
        layout.addWidget(self._status)

    def _install_shortcuts(self) -> None:
        moves = {
            Qt.Key.Key_PageDown: self.next_gather, Qt.Key.Key_Right: self.next_gather,
            Qt.Key.Key_PageUp: self.previous_gather, Qt.Key.Key_Left: self.previous_gather,
            Qt.Key.Key_Home: lambda: self.show_gather(0),
            Qt.Key.Key_End: lambda: self.show_gather(len(self._index or ()) - 1),
        }
        for key, move in moves.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(move)

    def _change_key(self, key: str) -> None:
        try:
            self.set_gather_key(key)
        except SeisprocError as exc:
            self._set_status(str(exc), error=True)

    def _set_status(self, text: str, error: bool = False) -> None:
        self._status.setText(text)
        self._status.setStyleSheet("color: #b00020;" if error else "")


def _key_label(key: str) -> str:
    """What a person calls gather key ``key`` (a segyio name)."""
    return next((label for label, name in GATHER_KEYS if name == key), key)


def _find_gather(index: GatherIndex, key_value: int, path: Path) -> int:
    """The position of the gather whose key is ``key_value``; raises if there is none."""
    try:
        return index.find(int(key_value))
    except KeyError:
        raise SeisprocError(f"{path}: no gather with {index.key} = {key_value}") from None


def _describe_flow(flow: Flow | None) -> str:
    if flow is None:
        return "No flow: showing the data as read"
    steps = " → ".join(step.processor for step in flow.steps)
    return f"Flow {flow.name}: {steps}"
