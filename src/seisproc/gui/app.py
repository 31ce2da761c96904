"""``run_gui``: the desktop application's composition root.

The one place in the GUI that picks adapters, as :mod:`seisproc.engine` is for scripts:
the job manager on the default engine (history database, Ray workers, checkpoints), the
resource monitor with the Ray probe and the job tracker, the alert manager with its
rules file whose toasts pop up in the window. Ray starts (or is joined, with
``address``) when the first job runs, so the window opens in a second or two.

On quit the window says what happens to active jobs (pause for later or cancel), and
everything opened here is closed in reverse order.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from seisproc.alerts.actions import ToastBus
from seisproc.alerts.config import AlertConfigError
from seisproc.alerts.manager import AlertManager
from seisproc.alerts.wiring import open_alert_manager
from seisproc.engine import open_manager, open_store, resource_recorder
from seisproc.gui.main_window import MainWindow
from seisproc.history import JobHistoryStorage
from seisproc.jobs.events import JobEvent
from seisproc.jobs.manager import JobManager
from seisproc.monitoring import JobTracker, ResourceMonitor
from seisproc.orchestration.executor import WorkerStatus

__all__ = ["build_main_window", "run_gui"]

_SIGNAL_POLL_MS = 250
"""How often Python gets a turn to see Ctrl-C while Qt's event loop runs."""


class _ManagerPool:
    """The manager's worker pool, for the Ray probe, once the first job has started it."""

    def __init__(self, manager: JobManager) -> None:
        self._manager = manager

    def workers(self) -> Sequence[WorkerStatus]:
        workers = getattr(self._manager.executor, "workers", None)
        return list(workers()) if callable(workers) else []


def _application(argv: Sequence[str] | None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(
        list(argv if argv is not None else sys.argv))
    app.setOrganizationName("seisproc")
    app.setApplicationName("seisproc")
    app.setApplicationDisplayName("seisproc")
    return app


def _history(manager: JobManager, database_url: str | None,
             cleanup: contextlib.ExitStack) -> JobHistoryStorage:
    """The manager's own history store, or one more connection to the same database."""
    if isinstance(manager.store, JobHistoryStorage):
        return manager.store
    store = open_store(database_url)
    cleanup.callback(store.close)
    return store


def _alerts(manager: JobManager, toasts: ToastBus,
            cleanup: contextlib.ExitStack) -> tuple[AlertManager | None, str]:
    """The rules of ``alerts.toml`` (or the built-in ones), acting on ``manager``'s jobs.

    A broken rule file costs the alerts, not the application: the reason is returned
    for the window to show.
    """
    try:
        alerts = open_alert_manager(toasts=toasts, jobs=manager)
    except AlertConfigError as exc:
        return None, f"Alert rules are off: {exc}"
    cleanup.callback(alerts.close)
    return alerts, ""


def _monitor(manager: JobManager, store: JobHistoryStorage, alerts: AlertManager | None,
             cleanup: contextlib.ExitStack) -> ResourceMonitor:
    """Samples the machine, the Ray cluster (once joined) and this window's jobs, and
    checks the alert rules: job rules as each unit lands, the others each sample.

    ``seisproc run`` hosts the job rules and ``seisproc monitor`` the machine rules; the
    GUI runs jobs and watches the machine, so it hosts both.
    """
    from seisproc.orchestration.probe import RayClusterProbe

    tracker = JobTracker.following(manager, predict=store.predicted_rate)
    cleanup.callback(tracker.close)
    monitor = ResourceMonitor(jobs=tracker, cluster=RayClusterProbe(_ManagerPool(manager)),
                              sink=resource_recorder(store))
    cleanup.callback(monitor.stop)
    if alerts is not None:
        cleanup.callback(tracker.on_unit(alerts.check_job))
        cleanup.callback(monitor.subscribe(alerts.check))

        def check_event(event: JobEvent) -> None:
            alerts.handle_event(event)

        cleanup.callback(manager.subscribe(check_event))
    return monitor


def run_gui(*, database_url: str | None = None, address: str | None = None,
            workers: int | None = None, max_running: int = 4,
            argv: Sequence[str] | None = None) -> int:
    """Open the main window on the default engine; returns the application's exit code.

    Parameters
    ----------
    database_url, address, workers, max_running
        As for :func:`seisproc.engine.open_manager` (and ``seisproc run``).
    argv
        Qt's command line (``sys.argv`` by default).

    Examples
    --------
    >>> raise SystemExit(run_gui())                               # doctest: +SKIP
    """
    app = _application(argv)
    with contextlib.ExitStack() as cleanup:
        window = build_main_window(cleanup, database_url=database_url, address=address,
                                   workers=workers, max_running=max_running)
        with _interrupt_pauses_jobs(window):
            window.show()
            code = app.exec()
    return code


def build_main_window(cleanup: contextlib.ExitStack, *, database_url: str | None = None,
                      address: str | None = None, workers: int | None = None,
                      max_running: int = 4) -> MainWindow:
    """Engine, monitor and alerts wired to a new (hidden) window; ``cleanup`` closes them.

    :func:`run_gui` without the application and its event loop, for scripts that drive
    the window themselves (the documentation's screenshots). Needs a ``QApplication``.
    """
    manager = open_manager(database_url=database_url, address=address, workers=workers,
                           max_running=max_running)
    store = _history(manager, database_url, cleanup)
    toasts = ToastBus()
    alerts, problem = _alerts(manager, toasts, cleanup)
    monitor = _monitor(manager, store, alerts, cleanup)
    window = MainWindow(manager, event_log=store.job_events, monitor=monitor, alerts=alerts,
                        toasts=toasts if alerts is not None else None, store=store)
    cleanup.callback(lambda: manager.close(active=window.quit_choice))
    monitor.start()
    if problem:  # once the window shows
        QTimer.singleShot(0, lambda: window.notify(problem, "warning"))
    return window


@contextlib.contextmanager
def _interrupt_pauses_jobs(window: MainWindow) -> Iterator[None]:
    """Ctrl-C in the terminal closes the window, pausing its jobs (resumable later)."""

    def interrupted(number: int, frame: FrameType | None) -> None:
        window.quit_with("pause")

    previous = signal.signal(signal.SIGINT, interrupted)
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)  # lets the interpreter run the signal handler
    ticker.start(_SIGNAL_POLL_MS)
    try:
        yield
    finally:
        ticker.stop()
        signal.signal(signal.SIGINT, previous)
