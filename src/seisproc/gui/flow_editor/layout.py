"""The flow editor's widgets and where they sit; what they do is :mod:`.editor`'s.

From top to bottom: the flow's own fields, the steps beside the selected step's form,
the problems, the buttons, a status line. Every part that shows messages has a fixed
height (see :mod:`.problems`), so nothing moves while the user types: a click aimed at a
field or a button lands on it whatever the validation just said.
"""

from __future__ import annotations

from typing import get_args

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from seisproc.gui.flow_editor.problems import (
    ERROR_COLOUR,
    ElidedLabel,
    ProblemsPanel,
    set_colour,
    tinted,
)
from seisproc.processing.base import available_processors
from seisproc.processing.describe import describe_processor
from seisproc.processing.device import Device

__all__ = ["EditorLayout", "COMMON_GATHER_KEYS", "HEADER_FIELDS"]

COMMON_GATHER_KEYS = ("ffid", "cdp", "offset", "channel", "inline", "crossline", "sx", "gx")
"""Offered in the gather-key box; any key :func:`seisproc.io.header_field` knows works."""

HEADER_FIELDS = ("name", "input", "output", "gather_by")
"""The flow's own fields that problems can be about, as :class:`Problem` names them."""


class EditorLayout(QWidget):
    """The widgets of the flow editor, built and laid out, with ways to mark them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_header())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_steps())
        splitter.addWidget(self._build_params())
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([300, 600])
        layout.addWidget(splitter, 1)
        self.problems_panel = ProblemsPanel()
        layout.addWidget(self.problems_panel)
        layout.addLayout(self._build_actions())
        self.status_label = ElidedLabel()
        layout.addWidget(self.status_label)

    # --- building -----------------------------------------------------------------------
    def _build_header(self) -> QGroupBox:
        box = QGroupBox("Flow")
        form = QFormLayout(box)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("a short name, e.g. bandpass-agc")
        self.input_edit = QLineEdit()
        self.input_edit.setPlaceholderText("the SEG-Y file to process")
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("the SEG-Y file to write (must not exist)")
        self.gather_combo = QComboBox()
        self.gather_combo.setEditable(True)
        self.gather_combo.addItems(COMMON_GATHER_KEYS)
        self.gather_combo.setToolTip("Trace-header key whose value groups traces into gathers")
        self.device_combo = QComboBox()
        self.device_combo.addItems(list(get_args(Device)))
        self.device_combo.setToolTip("auto: GPU workers when the cluster has them, else CPU")
        self.input_browse = QPushButton("Browse…")
        self.output_browse = QPushButton("Browse…")
        self.header_widgets: dict[str, QWidget] = {
            "name": self.name_edit,
            "input": self.input_edit,
            "output": self.output_edit,
            "gather_by": self.gather_combo,
        }
        self.header_labels = {
            key: QLabel(text)
            for key, text in (
                ("name", "Name"),
                ("input", "Input"),
                ("output", "Output"),
                ("gather_by", "Gather by"),
            )
        }
        self._plain_header = {
            key: QPalette(widget.palette()) for key, widget in self.header_widgets.items()
        }
        form.addRow(self.header_labels["name"], self.name_edit)
        form.addRow(self.header_labels["input"], _row(self.input_edit, self.input_browse))
        form.addRow(self.header_labels["output"], _row(self.output_edit, self.output_browse))
        keys = QHBoxLayout()
        self.gather_combo.setMinimumWidth(160)
        keys.addWidget(self.gather_combo)
        keys.addSpacing(24)
        keys.addWidget(QLabel("Device"))
        keys.addWidget(self.device_combo)
        keys.addStretch(1)
        form.addRow(self.header_labels["gather_by"], keys)
        return box

    def _build_steps(self) -> QGroupBox:
        box = QGroupBox("Steps")
        column = QVBoxLayout(box)
        self.steps_list = QListWidget()
        self.steps_list.setIconSize(QSize(16, 16))
        column.addWidget(self.steps_list, 1)
        adding = QHBoxLayout()
        self.add_combo = QComboBox()
        for name, cls in available_processors().items():
            self.add_combo.addItem(name)
            self.add_combo.setItemData(
                self.add_combo.count() - 1,
                describe_processor(cls).summary,
                Qt.ItemDataRole.ToolTipRole,
            )
        self.add_button = QPushButton("Add step")
        adding.addWidget(self.add_combo, 1)
        adding.addWidget(self.add_button)
        column.addLayout(adding)
        moving = QHBoxLayout()
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        for button in (self.remove_button, self.up_button, self.down_button):
            moving.addWidget(button)
        column.addLayout(moving)
        return box

    def _build_params(self) -> QGroupBox:
        self.params_box = QGroupBox("Parameters")
        column = QVBoxLayout(self.params_box)
        self.form_stack = QStackedWidget()
        self._no_step = QLabel("Add a step from the list on the left.")
        self._no_step.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.form_stack.addWidget(self._no_step)
        self.params_scroll = QScrollArea()
        self.params_scroll.setWidgetResizable(True)
        self.params_scroll.setWidget(self.form_stack)
        column.addWidget(self.params_scroll)
        return self.params_box

    def _build_actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.new_button = QPushButton("New flow")
        self.open_button = QPushButton("Open flow…")
        self.save_button = QPushButton("Save flow…")
        self.file_label = QLabel()
        self.submit_button = QPushButton("Submit as job")
        for widget in (self.new_button, self.open_button, self.save_button):
            row.addWidget(widget)
        row.addSpacing(12)
        row.addWidget(self.file_label)
        row.addStretch(1)  # the file name grows into the stretch: no button moves
        row.addWidget(self.submit_button)
        return row

    # --- marks --------------------------------------------------------------------------
    def mark_header(self, problems: dict[str, str]) -> None:
        """Mark each of the flow's fields named in ``problems`` (key: message)."""
        for key, widget in self.header_widgets.items():
            message = problems.get(key, "")
            set_colour(self.header_labels[key], ERROR_COLOUR if message else None)
            self.header_labels[key].setToolTip(message)
            widget.setPalette(tinted(self._plain_header[key], bool(message)))

    def header_marks(self) -> list[str]:
        """The flow's fields shown as wrong."""
        return [key for key, label in self.header_labels.items() if label.toolTip()]

    def mark_steps(self, problems: list[list[str]]) -> None:
        """A warning icon on each step with problems (one list of messages per row)."""
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        blank = QPixmap(self.steps_list.iconSize())
        blank.fill(Qt.GlobalColor.transparent)  # keeps every step's text in one column
        for row, messages in enumerate(problems):
            item = self.steps_list.item(row)
            item.setIcon(warning if messages else QIcon(blank))
            item.setToolTip("\n".join(messages))

    def step_marked(self, row: int) -> bool:
        """Whether the step list shows step ``row`` (from 0) as having problems."""
        return bool(self.steps_list.item(row).toolTip())

    def set_status(self, text: str, error: bool = False) -> None:
        set_colour(self.status_label, ERROR_COLOUR if error else None)
        self.status_label.setText(text)


def _row(edit: QLineEdit, button: QPushButton) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return box
