"""Stepping through gathers: previous/next buttons, a slider and a gather-number box.

Gathers are numbered from 0 in code (as in :class:`~seisproc.io.GatherIndex`) and from 1
on screen. Moving any control asks for that gather through ``gather_requested``; the
viewer answers with :meth:`GatherNavigator.set_current`, which moves the controls without
asking again.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QWidget

__all__ = ["GatherNavigator"]


class GatherNavigator(QWidget):
    """``gather_requested(int)``: the 0-based gather the person moved to."""

    gather_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.previous_button = QPushButton("◀ Prev")
        self.previous_button.setToolTip("Previous gather (Left, Page Up)")
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Next gather (Right, Page Down)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(100)  # a track to drag, when the labels beside it are long
        self.number = QSpinBox()
        self.number.setPrefix("Gather ")
        self.number.setKeyboardTracking(False)
        self.count_label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.previous_button, self.slider, self.number, self.count_label,
                       self.next_button):
            layout.addWidget(widget, stretch=1 if widget is self.slider else 0)
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.slider.valueChanged.connect(self.gather_requested)
        self.number.valueChanged.connect(lambda shown: self.gather_requested.emit(shown - 1))
        self._count = 0
        self.set_count(0)

    @property
    def count(self) -> int:
        return self._count

    @property
    def current(self) -> int:
        return self.slider.value()

    def set_count(self, count: int) -> None:
        """How many gathers there are; 0 disables the controls."""
        self._count = count
        with QSignalBlocker(self.slider), QSignalBlocker(self.number):
            self.slider.setRange(0, max(count - 1, 0))
            self.number.setRange(1, max(count, 1))
        self.count_label.setText(f"of {count}")
        self.setEnabled(count > 0)
        self._update_buttons()

    def set_current(self, gather: int) -> None:
        """Move the controls to ``gather`` without asking for it again."""
        with QSignalBlocker(self.slider), QSignalBlocker(self.number):
            self.slider.setValue(gather)
            self.number.setValue(gather + 1)
        self._update_buttons()

    def step(self, delta: int) -> None:
        """Ask for the gather ``delta`` away from the current one, if there is one."""
        self.go_to(self.current + delta)

    def go_to(self, gather: int) -> None:
        """Ask for ``gather``, held within the first and the last."""
        if self.count:
            target = min(max(gather, 0), self.count - 1)
            if target != self.current:
                self.gather_requested.emit(target)

    def _update_buttons(self) -> None:
        self.previous_button.setEnabled(self.current > 0)
        self.next_button.setEnabled(self.current < self.slider.maximum())
