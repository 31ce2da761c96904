"""The main window: menus, dockable panels, the status-bar job indicator, toasts.

Panels: Job Dashboard and Resource Monitor, Analytics (with a history store), Gather
Viewer and Flow Editor. The flow editor drives the viewer's before/after preview (each
valid edit, debounced) and submits through the same path as File > Open and Run Flow.

It adapts a :class:`~seisproc.jobs.manager.JobManager` (and optionally the resource
monitor, the alert manager and its toast bus) handed in by the composition root
(:mod:`seisproc.gui.app`) or by a test; it owns none of them. Job events cross into the
GUI thread through one :class:`~seisproc.gui.bridge.CoalescingBridge` shared by the
dashboard, the status indicator and the completion toasts.

Panels are dock widgets listed in the View menu (close, reopen, move, float); their
layout and the window geometry are kept in the user's settings for organisation and
application "seisproc" (``~/.config/seisproc/seisproc.conf`` on Linux).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from seisproc.alerts.actions import ToastBus
from seisproc.alerts.manager import AlertManager
from seisproc.alerts.rules import Alert
from seisproc.errors import OutputError, SeisprocError
from seisproc.gui.analytics import JobAnalyticsWidget
from seisproc.gui.bridge import CoalescingBridge
from seisproc.gui.dashboard import JobDashboard
from seisproc.gui.dashboard.details import EventLog
from seisproc.gui.dock_room import DockRoom
from seisproc.gui.flow_editor import FlowEditor
from seisproc.gui.notifications import alert_summary, ended_toasts, job_toasts
from seisproc.gui.resource_monitor import ResourceMonitorWidget
from seisproc.gui.status_indicator import JobStatusIndicator
from seisproc.gui.toast import ToastNotification, default_duration_ms, toast_alert
from seisproc.gui.viewer import GatherViewer
from seisproc.gui.viewer.job_file import job_file
from seisproc.history import JobHistoryStorage
from seisproc.io.segy import open_segy
from seisproc.jobs.events import JobEvent
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.monitoring.monitor import ResourceMonitor
from seisproc.processing.flow import Flow, load_flow

__all__ = ["MainWindow", "QuitChoice"]

QuitChoice = Literal["pause", "cancel"]
"""What happens to active jobs on quit: paused (resumable later) or cancelled."""
_LAYOUT_VERSION = 3
"""Saved layouts of another version give way to the default one (3: the flow editor
moved beside the viewer, into the right column)."""
_ROOMY_PANELS = ("gather_viewer", "analytics")
"""Panels that need most of the window's width when in front (see :mod:`dock_room`)."""
_TABLE_SHARE = 820 / 1400
"""The job table's column's share of the width, beside the gauges: the table needs it."""
_PREVIEW_DEBOUNCE_MS = 300
"""Typing a parameter recomputes the viewer's preview once the keys pause this long."""


def _settings() -> QSettings:
    """The user's seisproc settings, in the default format (tests redirect that one)."""
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, "seisproc",
                     "seisproc")
_QUITTING_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED)


class MainWindow(QMainWindow):
    """The seisproc desktop window over an injected engine.

    Parameters
    ----------
    manager
        Runs the jobs; the window never closes it (its owner does, with
        :attr:`quit_choice` once the window has closed).
    event_log
        The history's transition log for the dashboard's details pane
        (``JobHistoryStorage.job_events``).
    monitor, alerts
        Shown by the Resource Monitor panel; none: the panel waits for data.
    store
        The job history the Analytics panel reads; none: no Analytics panel.
    toasts
        The alert manager's toast bus; its alerts pop up as toast notifications (a
        failed job among them, through the ``job_failed`` rule). Without it the window
        toasts failures itself; completions always.

    Examples
    --------
    >>> window = MainWindow(open_manager())                    # doctest: +SKIP
    >>> window.add_dock("Analytics", AnalyticsWidget(store), "analytics")  # doctest: +SKIP
    """

    segy_open_requested = Signal(str)
    """A SEG-Y file the user opened (File > Open SEG-Y…); the gather viewer shows it."""
    job_submitted = Signal(object)
    """A :class:`Job` submitted from this window (File > Open and Run Flow…)."""

    def __init__(self, manager: JobManager, *, event_log: EventLog | None = None,
                 monitor: ResourceMonitor | None = None, alerts: AlertManager | None = None,
                 toasts: ToastBus | None = None, store: JobHistoryStorage | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.quit_choice: QuitChoice = "pause"
        self._forced_quit: QuitChoice | None = None
        self.setWindowTitle("seisproc")
        self.room = DockRoom(self, _ROOMY_PANELS, _TABLE_SHARE)
        self.job_events: CoalescingBridge[JobEvent] = CoalescingBridge(interval_ms=100,
                                                                       parent=self)
        self._unsubscribe = [manager.subscribe(self.job_events)]
        self.dashboard = JobDashboard(manager, feed=self.job_events, event_log=event_log)
        self.dashboard.status_message.connect(self._show_message)
        self.dashboard.jobs_ended.connect(self._on_jobs_ended)
        self.job_events.delivered.connect(self._on_job_events)
        self.resource_monitor = ResourceMonitorWidget(monitor, alerts)
        self._alert_events: CoalescingBridge[Alert] = CoalescingBridge(interval_ms=100,
                                                                       parent=self)
        self._alert_events.delivered.connect(self._on_alerts)
        self._alert_toasts = toasts is not None
        """Failures toast through the ``job_failed`` alert rule, not as job toasts."""
        if toasts is not None:
            self._unsubscribe.append(toasts.subscribe(self._alert_events))
        self.indicator = JobStatusIndicator(self.dashboard.model)
        self.indicator.clicked.connect(self.show_dashboard)
        self.statusBar().addPermanentWidget(self.indicator)
        self._build_menus()
        self.dashboard_dock = self.add_dock("Job Dashboard", self.dashboard, "job_dashboard",
                                            Qt.DockWidgetArea.LeftDockWidgetArea)
        self.resource_dock = self.add_dock("Resource Monitor", self.resource_monitor,
                                           "resource_monitor",
                                           Qt.DockWidgetArea.RightDockWidgetArea)
        self.analytics: JobAnalyticsWidget | None = None
        self.analytics_dock: QDockWidget | None = None
        if store is not None:
            self.analytics = JobAnalyticsWidget(store)
            self.dashboard.history_changed.connect(self.analytics.history_changed)
            self.analytics_dock = self.add_dock("Analytics", self.analytics, "analytics",
                                                Qt.DockWidgetArea.RightDockWidgetArea,
                                                scroll=True)
        self.viewer = GatherViewer()
        self.viewer_dock = self.add_dock("Gather Viewer", self.viewer, "gather_viewer",
                                         Qt.DockWidgetArea.LeftDockWidgetArea, scroll=True)
        self.flow_editor = FlowEditor(submit=self.submit_flow)
        self.flow_editor_dock = self.add_dock("Flow Editor", self.flow_editor, "flow_editor",
                                              Qt.DockWidgetArea.RightDockWidgetArea,
                                              scroll=True)
        self._connect_viewer()
        self._restore_layout()

    # ------------------------------------------------------------------ construction
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_segy_action = self._menu_action(
            file_menu, "&Open SEG-Y…", QKeySequence.StandardKey.Open, self._choose_segy)
        self.run_flow_action = self._menu_action(
            file_menu, "Open and &Run Flow…", "Ctrl+R", self._choose_flow)
        self.velocity_action = self._menu_action(
            file_menu, "&Velocity Analysis…", "Ctrl+Shift+V", self._choose_velocity_analysis)
        file_menu.addSeparator()
        self.quit_action = self._menu_action(file_menu, "&Quit", QKeySequence.StandardKey.Quit,
                                             self.close)
        jobs_menu = self.menuBar().addMenu("&Jobs")
        jobs_menu.addActions([self.dashboard.pause_action, self.dashboard.resume_action,
                              self.dashboard.cancel_action])
        jobs_menu.addSeparator()
        self.cancel_all_action = self._menu_action(
            jobs_menu, "Cancel &All Jobs", "Escape", self.cancel_all_jobs)
        self.cancel_all_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.view_menu = self.menuBar().addMenu("&View")

    def _menu_action(self, menu: QMenu, text: str, key: str | QKeySequence.StandardKey,
                     slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        self.addAction(action)
        menu.addAction(action)
        return action

    def add_dock(self, title: str, widget: QWidget, object_name: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                 *, scroll: bool = False) -> QDockWidget:
        """Put ``widget`` in a dock panel listed in the View menu, where it was last time.

        ``object_name`` keys the saved layout: keep it stable across versions. ``scroll``
        lets a wide panel (the viewer's controls) scroll instead of setting the whole
        window's minimum width.
        """
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        if scroll:
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setWidget(widget)
            dock.setWidget(area_widget)
        else:
            dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.room.watch(dock)
        toggle = dock.toggleViewAction()
        toggle.setText(title)
        toggle.setStatusTip(f"Show or hide the {title} panel")
        self.view_menu.addAction(toggle)
        self.restoreDockWidget(dock)  # placed as saved, when added after the layout restore
        hidden = _settings().value("main_window/hidden_panels", [])
        dock.setVisible(object_name not in (hidden if isinstance(hidden, list) else [hidden]))
        return dock

    def _connect_viewer(self) -> None:
        """Opened SEG-Y files go to the viewer; the flow being edited drives its preview."""
        self.segy_open_requested.connect(self._show_in_viewer)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(_PREVIEW_DEBOUNCE_MS)
        self._pending_flow: Flow | None = None
        self._preview_timer.timeout.connect(lambda: self.viewer.set_flow(self._pending_flow))
        self.flow_editor.flow_changed.connect(self._preview_flow)
        self.dashboard.details.qc_strip.gather_clicked.connect(self._show_qc_gather)
        self.dashboard.gather_requested.connect(self.show_job_gather)  # a comparison's worst

    def _show_qc_gather(self, key_value: int) -> None:
        job = self.dashboard.details.job
        if job is not None:
            self.show_job_gather(job, key_value)

    def show_job_gather(self, job: Job, key_value: int) -> bool:
        """Show the gather of ``job`` whose key (the flow's ``gather_by``) is ``key_value``
        in the viewer: from the job's output once it is written, from its input until then
        (the viewer's title says which). A clicked QC point lands here.

        The viewer shows the file as it is, without the flow being edited: its preview on
        processed data would show a second pass, not what the job wrote.
        """
        path, source = job_file(job)
        self._preview_timer.stop()
        self.viewer.set_flow(None)
        try:
            self.viewer.open_file(path, gather_by=str(job.flow.get("gather_by", "ffid")),
                                  key_value=key_value, source=source)
        except SeisprocError as exc:
            self.show_error("Cannot show the gather", str(exc))
            return False
        self.viewer_dock.show()
        self.viewer_dock.raise_()
        return True

    def _show_in_viewer(self, path: str) -> None:
        try:
            self.viewer.open_file(path)
        except SeisprocError as exc:
            self.show_error("Cannot show the SEG-Y file", str(exc))
            return
        self.viewer_dock.show()
        self.viewer_dock.raise_()

    def _preview_flow(self, flow: Flow) -> None:
        self._pending_flow = flow
        self._preview_timer.start()

    # ------------------------------------------------------------------ layout
    def _restore_layout(self) -> None:
        settings = _settings()
        geometry = settings.value("main_window/geometry")
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1400, 850)
        state = settings.value("main_window/state")
        if not (isinstance(state, QByteArray) and self.restoreState(state, _LAYOUT_VERSION)):
            self._default_layout()

    def _default_layout(self) -> None:
        """The viewer tabbed with the dashboard; the flow editor (which drives the viewer's
        preview, so it sits beside it) and analytics with the monitor: every panel one
        click away, the job table and the gauges in front. A wide panel brought to the
        front gets the room it needs (:class:`~seisproc.gui.dock_room.DockRoom`)."""
        width = self.width()
        table = round(width * _TABLE_SHARE)
        self.resizeDocks([self.dashboard_dock, self.resource_dock], [table, width - table],
                         Qt.Orientation.Horizontal)  # the table needs the room
        self.tabifyDockWidget(self.dashboard_dock, self.viewer_dock)
        right = [self.flow_editor_dock, self.analytics_dock]
        for dock in (d for d in right if d is not None):
            hidden = dock.isHidden()
            self.removeDockWidget(dock)  # tabified in place, the second left a stale tab bar
            self.tabifyDockWidget(self.resource_dock, dock)
            dock.setHidden(hidden)
        self.dashboard_dock.raise_()
        self.resource_dock.raise_()

    def save_layout(self) -> None:
        """Remember the geometry and the panels' places for the next launch."""
        settings = _settings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState(_LAYOUT_VERSION))
        settings.setValue("main_window/hidden_panels", [  # for panels added after the restore
            dock.objectName() for dock in self.findChildren(QDockWidget) if dock.isHidden()])
        settings.sync()

    def show_dashboard(self) -> None:
        """Show and raise the Job Dashboard panel (the status indicator's click)."""
        self.dashboard_dock.show()
        self.dashboard_dock.raise_()
        self.dashboard.view.setFocus()

    # ------------------------------------------------------------------ File menu
    def _choose_segy(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open SEG-Y file", self._last_folder(),
                                              "SEG-Y files (*.sgy *.segy *.SGY *.SEGY);;"
                                              "All files (*)")
        if path:
            self.open_segy_file(path)

    def _choose_velocity_analysis(self) -> None:
        from seisproc.gui.velocity import choose_velocity_analysis  # its plots load on use

        choose_velocity_analysis(self, self._last_folder())

    def open_segy_file(self, path: str | Path) -> bool:
        """Describe the file in the status bar and announce it (:attr:`segy_open_requested`)."""
        try:
            with open_segy(path) as segy:
                lay = segy.layout
        except (SeisprocError, OSError) as exc:
            self.show_error("Cannot open the SEG-Y file", str(exc))
            return False
        self._remember_folder(path)
        self._show_message(f"{Path(path).name}: {lay.n_traces:,} traces × {lay.n_samples} "
                           f"samples at {lay.sample_interval_ms:g} ms, {lay.format.name}, "
                           f"{lay.endian}-endian")
        self.segy_open_requested.emit(str(path))
        return True

    def _choose_flow(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open and run a flow", self._last_folder(),
                                              "Flows (*.yaml *.yml *.toml);;All files (*)")
        if path:
            self.run_flow_file(path)

    def run_flow_file(self, path: str | Path) -> Job | None:
        """Validate the flow file and submit it as a job; errors go to a message box."""
        try:
            flow = load_flow(path)
            job = self._submit(flow)
        except OutputError as exc:
            self.show_error("The flow cannot run", str(exc))
            return None
        except SeisprocError as exc:
            self.show_error("The flow is not valid", str(exc))
            return None
        if job is not None:
            self._remember_folder(path)
        return job

    def submit_flow(self, flow: Flow) -> Job | None:
        """The Flow Editor's "Submit as job": errors propagate for the editor to show."""
        return self._submit(flow)

    def _submit(self, flow: Flow) -> Job | None:
        """Submit ``flow`` (asking before replacing an existing output); ``None`` if the
        user declined. Submission errors propagate."""
        overwrite = flow.output.exists() and flow.output != flow.input
        if overwrite and not self.confirm_overwrite(flow.output):
            return None
        job = self.manager.submit(flow, overwrite=overwrite)
        self.dashboard.model.apply_jobs([job])
        self.show_dashboard()
        self.dashboard.select_job(job.id)
        self._show_message(f"Job {job.id} submitted: {job.name}")
        self.job_submitted.emit(job)
        return job

    def _last_folder(self) -> str:
        return str(_settings().value("main_window/last_folder", str(Path.home())))

    def _remember_folder(self, path: str | Path) -> None:
        _settings().setValue("main_window/last_folder", str(Path(path).parent))

    # ------------------------------------------------------------------ jobs
    def _active_jobs(self) -> list[Job]:
        """Jobs this process runs that are still waiting, running or paused."""
        return [job for job in self.manager.list(list(_QUITTING_STATES))
                if job.owner == self.manager.owner]

    def cancel_all_jobs(self) -> int:
        """Escape: cancel every active job, this process's and others' (those get a
        request, as ``seisproc cancel`` sends), after a confirmation; returns how many
        were asked to stop. The dashboard says in the status bar when they have."""
        jobs = self.dashboard.active_jobs()
        if not jobs:
            self._show_message("No active jobs to cancel")
            return 0
        if not self.confirm_cancel_all(len(jobs)):
            return 0
        self.dashboard.cancel_jobs(jobs)
        return len(jobs)

    def _on_job_events(self, events: Sequence[JobEvent]) -> None:
        for message, severity in job_toasts(events, failures=not self._alert_toasts):
            self.notify(message, severity)

    def _on_jobs_ended(self, jobs: Sequence[Job]) -> None:
        """Other processes' jobs that ended (this window's alert rules never see them)."""
        for message, severity in ended_toasts(jobs):
            self.notify(message, severity)

    def _on_alerts(self, alerts: Sequence[Alert]) -> None:
        summary = alert_summary(alerts)
        if summary is not None:
            self.notify(*summary)
            return
        for alert in alerts:
            toast_alert(alert, self)

    def notify(self, message: str, severity: str = "info") -> None:
        """A toast over this window."""
        ToastNotification.show_toast(message, severity, default_duration_ms(severity), self)

    # ------------------------------------------------------------------ dialogs
    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def confirm_overwrite(self, output: Path) -> bool:
        answer = QMessageBox.question(
            self, "Replace the output?", f"{output} exists. Replace it with this flow's "
            "output?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def confirm_cancel_all(self, count: int) -> bool:
        answer = QMessageBox.question(
            self, "Cancel all jobs", f"Cancel all {count} active job{'s' * (count != 1)}? "
            "Their partial output is removed and they cannot be resumed.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def ask_on_quit(self, count: int) -> QuitChoice | None:
        """``"pause"``, ``"cancel"`` or ``None`` (keep running: do not quit)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Jobs are still active",
                          f"{count} job{'s are' if count != 1 else ' is'} still running, "
                          "queued or paused. Pause them to resume later (seisproc resume, or "
                          "Resume in the dashboard), or cancel them?", parent=self)
        pause = box.addButton("Pause for later", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Cancel jobs", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(pause)
        box.setEscapeButton(keep)
        box.exec()
        clicked = box.clickedButton()
        if clicked is pause:
            return "pause"
        return "cancel" if clicked is cancel else None

    # ------------------------------------------------------------------ quitting
    def quit_with(self, choice: QuitChoice) -> None:
        """Close without asking, leaving active jobs to ``choice`` (Ctrl-C in the terminal)."""
        self._forced_quit = choice
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._forced_quit is not None:  # Ctrl-C: no question; the next window restores it
            self.flow_editor.write_autosave()
        elif not self.flow_editor.confirm_discard(quitting=True):  # an unsaved flow: Cancel
            event.ignore()
            return
        count = len(self._active_jobs())
        choice = self._forced_quit or (self.ask_on_quit(count) if count else "pause")
        self._forced_quit = None
        if choice is None:
            event.ignore()
            return
        self.quit_choice = choice
        if choice == "cancel" and count:
            self.manager.cancel_all()
        self.save_layout()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self.resource_monitor.detach()
        self.viewer.shutdown()
        if self.analytics is not None:
            self.analytics.wait_for_refresh()
        event.accept()

    def _show_message(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 10_000)
