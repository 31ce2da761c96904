"""Parameter test in the gather viewer: pick a parameter, give values, look.

The same test as ``seisproc panels`` (:mod:`seisproc.processing.variants` reads the
choice, :func:`~seisproc.jobs.panels.run_on_gathers` runs each variant), on the gather
the viewer shows, in this process: one gather is a fraction of a second per value, not
worth a trip to the cluster. The work runs on a worker thread
(:class:`~.runner.LatestRequestRunner`), so a second click while the first test runs
replaces it rather than queueing behind it. The panels share one clip
(:func:`~seisproc.plots.panels.shared_clip`): a value that makes the gather louder looks
louder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seisproc.errors import SeisprocError
from seisproc.gui.viewer.runner import LatestRequestRunner
from seisproc.gui.viewer.section import SectionView
from seisproc.io.headers import header_field
from seisproc.jobs.panels import GatherPanel, check_panels, run_on_gathers
from seisproc.plots.panels import shared_clip
from seisproc.processing.base import processor_class
from seisproc.processing.flow import Flow
from seisproc.processing.variants import parse_variation, varied_flows

__all__ = ["ParameterTestPanel", "ParameterTestResult", "parameter_choices", "run_test"]

_PANEL_MIN_HEIGHT = 300
"""Pixels a test panel keeps when the viewer's splitter shares its height: less shows a
strip, not a gather."""


@dataclass(frozen=True, eq=False)
class ParameterTestResult:
    """One gather after each value: ``panels[i]`` with ``labels[i]``."""

    labels: list[str]
    panels: list[GatherPanel]
    clip: float
    """The one clip every panel is drawn with."""


def parameter_choices(flow: Flow) -> list[str]:
    """Every ``step.field`` of ``flow`` a test can vary, as ``seisproc panels --vary``
    names it: by processor where the flow has one such step (``agc.window_ms``), else by
    processor and rank (``agc#2.window_ms``).

    >>> from seisproc.processing.flow import Flow
    >>> flow = Flow.from_mapping({"name": "t", "input": "/a.sgy", "output": "/b.sgy",
    ...                           "steps": [{"agc": {"window_ms": 500}}]})
    >>> parameter_choices(flow)
    ['agc.window_ms']
    """
    names = [step.processor for step in flow.steps]
    choices = []
    for place, name in enumerate(names):
        rank = names[: place + 1].count(name)
        selector = name if names.count(name) == 1 else f"{name}#{rank}"
        fields = processor_class(name).Params.model_fields
        choices += [f"{selector}.{field}" for field in fields]
    return choices


def run_test(flow: Flow, choice: str, values: str, key_value: int) -> ParameterTestResult:
    """``flow`` with each of ``values`` (``"250,500,1000"``) for ``choice`` on the gather
    whose ``gather_by`` header is ``key_value``; errors name the parameter, value, step
    or gather, as ``seisproc panels`` does (runs on the caller's thread)."""
    variation = parse_variation(f"{choice}={values}", flow)
    flows = varied_flows(flow, variation)
    check_panels(flows, [key_value])
    panels = [run_on_gathers(variant, [key_value])[0] for variant in flows]
    return ParameterTestResult(variation.labels(), panels, shared_clip([panels]))


class ParameterTestPanel(QWidget):
    """A parameter chooser built from the flow, a values field, and one panel per value.

    ``shown`` fires once a test's panels are drawn, ``failed(str)`` with the reason when
    it cannot run. :meth:`set_gather` tells it which gather the viewer shows.
    """

    shown = Signal()
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._flow: Flow | None = None
        self._gather: tuple[str, int] | None = None
        self.result: ParameterTestResult | None = None
        self.sections: list[SectionView] = []
        self.parameter = QComboBox()
        self.parameter.setToolTip("The step's parameter to vary")
        self.values = QLineEdit()
        self.values.setPlaceholderText("values, e.g. 250,500,1000")
        self.values.returnPressed.connect(self.run)
        self.run_button = QPushButton("Test")
        self.run_button.clicked.connect(self.run)
        self.status = QLabel("Edit a flow to test its parameters on this gather")
        self.status.setWordWrap(True)
        self._runner = LatestRequestRunner(self)
        self._runner.finished.connect(self._show)
        self._runner.failed.connect(self._fail)
        form = QHBoxLayout()
        for caption, widget in (("Vary", self.parameter), ("Values", self.values)):
            form.addWidget(QLabel(caption))
            form.addWidget(widget, stretch=1)
        form.addWidget(self.run_button)
        self._row = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(self._row, stretch=1)
        self.set_flow(None)

    def set_flow(self, flow: Flow | None) -> None:
        """Offer ``flow``'s parameters (keeping the chosen one when it still exists)."""
        self._flow = flow
        chosen = self.parameter.currentText()
        self.parameter.clear()
        if flow is not None:
            self.parameter.addItems(parameter_choices(flow))
            if chosen:
                self.parameter.setCurrentText(chosen)
        self.run_button.setEnabled(flow is not None)

    def set_gather(self, key: str, key_value: int) -> None:
        """The gather on screen: header ``key`` (a segyio name) is ``key_value``."""
        self._gather = (key, key_value)

    def run(self) -> None:
        """Run the test on the current gather (off the GUI thread)."""
        flow, gather = self._flow, self._gather
        if flow is None or gather is None:
            self._fail(SeisprocError("open a gather and edit a flow first"))
            return
        key, key_value = gather
        if header_field(flow.gather_by).name != key:
            self._fail(
                SeisprocError(
                    f"the viewer groups by {key}, the flow by "
                    f"{flow.gather_by}: show the flow's gathers to test it"
                )
            )
            return
        choice, values = self.parameter.currentText(), self.values.text()
        self.status.setText(f"Testing {choice} = {values} on {key} {key_value}…")
        self._runner.submit(lambda: run_test(flow, choice, values, key_value))

    def shutdown(self) -> None:
        self._runner.shutdown()

    @Slot(object)
    def _show(self, result: ParameterTestResult) -> None:
        self.result = result
        while len(self.sections) < len(result.panels):
            section = SectionView("")
            section.setMinimumHeight(_PANEL_MIN_HEIGHT)
            if self.sections:
                section.plot.setXLink(self.sections[0].plot)
                section.plot.setYLink(self.sections[0].plot)
            self.sections.append(section)
            self._row.addWidget(section)
        for section in self.sections[len(result.panels) :]:
            section.hide()
        for section, panel, label in zip(self.sections, result.panels, result.labels, strict=False):
            section.title = label
            x, x_label = panel.offsets_m, "Offset (m)"
            if len(np.unique(x)) < len(x):  # no usable offsets in the headers: trace numbers
                x, x_label = np.arange(1, len(x) + 1, dtype=np.float64), "Trace"
            section.set_section(
                panel.samples,
                x,
                x_label,
                panel.sample_interval_ms,
                result.clip,
                f"clip ±{result.clip:.3g}",
            )
            section.show()
        self.status.setStyleSheet("")
        self.status.setText(
            f"{len(result.panels)} values on gather {result.panels[0].key_value}"
            f", one shared clip ±{result.clip:.3g}"
        )
        self.shown.emit()

    @Slot(object)
    def _fail(self, error: BaseException) -> None:
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(str(error))
        self.failed.emit(str(error))
