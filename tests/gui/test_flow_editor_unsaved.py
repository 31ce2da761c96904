"""Unsaved changes: asked about at quit (a real close event of the main window) and before
Open / New replace them; autosaved meanwhile, and restored by the next editor."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from dashboard_helpers import activate
from flow_editor_helpers import THREE_STEPS, answer_next_prompt, spin, write_flow
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from seisproc.gui.flow_editor import FlowEditor
from seisproc.gui.flow_editor.drafts import default_autosave_path
from seisproc.gui.main_window import MainWindow
from seisproc.jobs.manager import JobManager
from seisproc.processing.flow import load_flow

B = QMessageBox.StandardButton


@pytest.fixture
def flow_file(tmp_path: Path, small_survey: Path) -> Path:
    return write_flow(tmp_path, THREE_STEPS, input=small_survey, output=tmp_path / "out.sgy")


@pytest.fixture
def window(qtbot, idle_manager: JobManager) -> MainWindow:
    window = MainWindow(idle_manager)

    def never_wait(w: MainWindow) -> None:  # teardown answers no dialog
        w.ask_on_quit = lambda count: "cancel"
        w.flow_editor.ask_unsaved = lambda quitting=False: "discard"

    qtbot.addWidget(window, before_close_func=never_wait)
    activate(qtbot, window)
    return window


def edited(editor: FlowEditor, flow_file: Path, window_ms: float = 250) -> None:
    editor.load(flow_file)
    spin(editor, 1, "window_ms").setValue(window_ms)
    assert editor.is_modified()


# --- the question at quit ---------------------------------------------------------------
def test_cancel_at_quit_keeps_the_window_and_the_edits(qtbot, window, flow_file):
    edited(window.flow_editor, flow_file)
    seen = answer_next_prompt(B.Cancel)

    assert window.close() is False

    assert seen[0] == "“bp-agc-mute” has changes that are not saved."
    assert seen[1] == "Save them to flow.yaml?"
    assert window.isVisible() and window.flow_editor.is_modified()
    assert spin(window.flow_editor, 1, "window_ms").value() == 250


def test_save_at_quit_writes_the_flow_file_and_closes(qtbot, window, flow_file):
    edited(window.flow_editor, flow_file)
    answer_next_prompt(B.Save)

    assert window.close() is True

    assert not window.isVisible()
    assert load_flow(flow_file).steps[1].params == {"window_ms": 250.0, "mode": "mean_abs"}
    assert not default_autosave_path().exists()


def test_discard_at_quit_leaves_the_file_and_no_autosave(qtbot, window, flow_file):
    before = flow_file.read_text()
    edited(window.flow_editor, flow_file)
    window.flow_editor.write_autosave()
    answer_next_prompt(B.Discard)

    assert window.close() is True

    assert flow_file.read_text() == before
    assert not default_autosave_path().exists()


def test_a_flow_with_problems_can_be_kept_as_a_draft_at_quit(qtbot, window, flow_file):
    edited(window.flow_editor, flow_file, window_ms=0)  # invalid: cannot be a flow file
    seen = answer_next_prompt(B.Save)

    assert window.close() is True

    assert seen[2] == "Keep draft" and "1 problem, so it cannot be saved" in seen[1]
    restored = FlowEditor()
    qtbot.addWidget(restored, before_close_func=lambda w: w.new_flow())
    assert restored.file() == flow_file and restored.is_modified()
    assert spin(restored, 1, "window_ms").value() == 0
    assert restored.errors() == ["step 2 (agc), window_ms: Input should be greater than 0"]
    assert restored.status_label.text().startswith("Restored the unsaved flow autosaved at")


def test_nothing_is_asked_when_the_edits_were_undone(qtbot, window, flow_file):
    edited(window.flow_editor, flow_file)
    spin(window.flow_editor, 1, "window_ms").setValue(500)  # what the file says
    window.flow_editor.ask_unsaved = lambda quitting=False: pytest.fail("asked")

    assert not window.flow_editor.is_modified()
    assert window.close() is True


def test_ctrl_c_in_the_terminal_quits_without_asking_and_keeps_the_draft(qtbot, window, flow_file):
    edited(window.flow_editor, flow_file)
    window.flow_editor.ask_unsaved = lambda quitting=False: pytest.fail("asked")

    window.quit_with("pause")

    assert not window.isVisible()
    document = yaml.safe_load(default_autosave_path().read_text())
    assert document["flow"]["steps"][1]["agc"]["window_ms"] == 250


# --- Open and New -----------------------------------------------------------------------
def test_new_flow_over_an_edited_flow_asks_first(qtbot, flow_file):
    editor = FlowEditor()
    qtbot.addWidget(editor, before_close_func=lambda w: w.new_flow())
    edited(editor, flow_file)

    answer_next_prompt(B.Cancel)
    qtbot.mouseClick(editor.new_button, Qt.MouseButton.LeftButton)
    assert editor.step_count() == 3 and editor.is_modified()

    answer_next_prompt(B.Discard)
    qtbot.mouseClick(editor.new_button, Qt.MouseButton.LeftButton)
    assert editor.step_count() == 0 and not editor.is_modified() and editor.file() is None


def test_open_over_an_edited_flow_cancelled_keeps_it(qtbot, flow_file):
    editor = FlowEditor()
    qtbot.addWidget(editor, before_close_func=lambda w: w.new_flow())
    edited(editor, flow_file)
    seen = answer_next_prompt(B.Cancel)

    qtbot.mouseClick(editor.open_button, Qt.MouseButton.LeftButton)  # no file dialog follows

    assert seen and editor.is_modified() and editor.step_count() == 3


def test_a_flow_with_problems_cannot_be_saved_from_the_question(qtbot, flow_file):
    editor = FlowEditor()
    qtbot.addWidget(editor, before_close_func=lambda w: w.new_flow())
    edited(editor, flow_file, window_ms=0)
    seen = answer_next_prompt(B.Cancel)

    assert editor.confirm_discard() is False

    assert "cannot be saved as a flow file yet: discard the changes, or cancel" in seen[1]
    assert sorted(seen[3].split("|")) == ["Cancel", "Discard"]  # Save is greyed out
    assert load_flow(flow_file).steps[1].params["window_ms"] == 500


# --- autosave ---------------------------------------------------------------------------
def test_an_edit_is_autosaved_privately_within_a_few_seconds(qtbot, flow_file):
    editor = FlowEditor()
    qtbot.addWidget(editor, before_close_func=lambda w: w.new_flow())
    editor.load(flow_file)
    autosave = default_autosave_path()
    assert not autosave.exists()  # nothing unsaved, nothing kept

    spin(editor, 1, "window_ms").setValue(300)
    qtbot.waitUntil(autosave.exists, timeout=5_000)

    document = yaml.safe_load(autosave.read_text())
    assert document["file"] == str(flow_file)
    assert document["flow"]["steps"][1] == {"agc": {"window_ms": 300.0, "mode": "mean_abs"}}
    assert stat.S_IMODE(autosave.stat().st_mode) == 0o600

    editor.save(flow_file)
    assert not autosave.exists()


def test_an_unreadable_autosave_is_set_aside_and_said(qtbot):
    autosave = default_autosave_path()
    autosave.parent.mkdir(parents=True, exist_ok=True)
    autosave.write_text("steps: [this is: not, an autosave")

    editor = FlowEditor()
    qtbot.addWidget(editor)

    assert editor.status_label.text().startswith("The autosaved flow could not be read")
    assert not autosave.exists() and autosave.with_name("flow.yaml.unreadable").exists()
    assert editor.step_count() == 0 and not editor.is_modified()
