"""Unsaved changes: knowing there are some, asking before losing them, autosaving them.

The editor compares what it shows (a :class:`~.drafts.Draft`) with what was last opened
or saved, so undoing a change by hand leaves nothing to ask about. While they differ,
the draft is autosaved :data:`AUTOSAVE_DELAY_MS` after the last change, and the question
"save, discard or cancel?" is asked before the flow would be replaced (Open, New) or the
window closed. Once nothing is unsaved the autosave is removed: what is left of it on
disk is always a flow the user would otherwise have lost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from seisproc.gui.flow_editor.drafts import Autosave, Draft

__all__ = ["UnsavedChanges", "Answer", "ask_unsaved", "AUTOSAVE_DELAY_MS"]

AUTOSAVE_DELAY_MS = 1_000
"""Quiet time after a change before the draft is written: a burst of typing, one write."""

Answer = Literal["save", "keep", "discard", "cancel"]
"""``keep``: leave the draft in the autosave, for the next window to restore."""

Where = Callable[[], tuple[Path | None, Path]]
"""The flow's file (``None``: never saved) and the folder its relative paths start from."""


class UnsavedChanges(QObject):
    """Tracks whether ``draft()`` differs from the last saved draft; autosaves it if so."""

    def __init__(
        self,
        draft: Callable[[], Draft],
        where: Where,
        autosave: Autosave | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._draft = draft
        self._where = where
        self.autosave = autosave
        self._saved: Draft | None = draft()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_DELAY_MS)
        self._timer.timeout.connect(self.write_autosave)

    def is_modified(self) -> bool:
        return self._saved is None or self._draft() != self._saved

    def mark_saved(self) -> None:
        """What is shown now is in a file (or is what the user chose to keep)."""
        self._saved = self._draft()
        self.changed()

    def mark_unsaved(self) -> None:
        """What is shown is in no file (a restored autosave), whatever it looks like."""
        self._saved = None
        self.changed()

    def changed(self) -> None:
        """Call after every change: (re)starts the autosave delay, or drops the autosave
        when the changes were undone or saved."""
        if self.autosave is None:
            return
        if self.is_modified():
            self._timer.start()
        else:
            self._timer.stop()
            self.autosave.remove()

    def write_autosave(self) -> None:
        """Write the draft now (also what the delay ends with)."""
        self._timer.stop()
        if self.autosave is not None and self.is_modified():
            file, base_dir = self._where()
            self.autosave.write(self._draft(), file, base_dir)


def ask_unsaved(
    parent: QWidget, name: str, file: Path | None, problem_count: int, quitting: bool
) -> Answer:
    """Ask what to do with unsaved changes before they would be lost.

    A valid flow can be saved (to its file, or to a name chosen next). One with problems
    cannot be written as a flow file; when the window is closing it can be kept as a
    draft instead, which the next window opens again.
    """
    title = f"“{name}”" if name.strip() else "The new flow"
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Unsaved flow",
        f"{title} has changes that are not saved.",
        parent=parent,
    )
    box.setStandardButtons(
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    save = box.button(QMessageBox.StandardButton.Save)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    if problem_count == 0:
        box.setInformativeText(
            f"Save them to {file.name}?" if file else "Save them to a flow file?"
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
    else:
        problems = f"{problem_count} problem{'s' if problem_count > 1 else ''}"
        if quitting:
            save.setText("Keep draft")
            box.setInformativeText(
                f"It has {problems}, so it cannot be saved as a flow "
                "file yet. Keep it as a draft (the editor opens it "
                "again next time), discard the changes, or cancel."
            )
        else:
            save.setEnabled(False)
            box.setInformativeText(
                f"It has {problems}, so it cannot be saved as a flow "
                "file yet: discard the changes, or cancel to fix them."
            )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.standardButton(box.clickedButton())
    if clicked == QMessageBox.StandardButton.Save:
        return "save" if problem_count == 0 else "keep"
    return "discard" if clicked == QMessageBox.StandardButton.Discard else "cancel"
