"""The desktop window on a million-job history: time to the first rows, the feed's CPU.

Fills a SQLite history with ``--jobs`` jobs (default 1,000,000; the fast builder of
:mod:`benchmarks.history_scale`) in a fresh ``SEISPROC_HOME``, then opens the real
window as ``seisproc gui`` does (:func:`seisproc.gui.app.build_main_window`: the engine,
the resource monitor, the alert rules, the window), offscreen, and measures:

* ``window.first_rows_s``: from the call that builds the window to the first paint of the
  job table with rows in it (the first load runs off the GUI thread; the table fills
  when it is read); ``window.first_rows_cpu_s``: the CPU time the process spent
  meanwhile, all threads (what the wall time would be with a core to itself, give or take
  the disk); ``window.built_s``: until the window object exists;
  ``window.since_start_s``: the first rows from this process's start (imports included);
* ``idle``: ``--seconds`` with nothing changing: the CPU of the change feed's polling
  thread, of the GUI thread and of the whole process (the resource monitor samples
  once a second in it), in % of one core;
* ``busy``: the same while another process (``--writer``) saves 10 running jobs'
  progress 4 times a second: each poll then brings changes the table shows.

CPU per thread is the kernel's count of the thread's time on a CPU
(``/proc/self/task/<tid>/schedstat``, nanoseconds), unaffected by other processes
competing for the cores. Targets: the first rows in < 5 s, the feed's thread < 2 % of a
core. Prints one JSON document.

    python -m benchmarks.window_scale [--jobs 1000000] [--db PATH] [--seconds 10]

``--quick``: 20,000 jobs, 3 s per phase. ``--db`` keeps (or reuses) the history file.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports: "since_start_s" counts them

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

TARGET_FIRST_ROWS_S = 5.0
TARGET_FEED_CPU_PERCENT = 2.0
WRITER_JOBS = 10
WRITER_HZ = 4


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def thread_cpu_s(native_id: int) -> float:
    """CPU seconds the thread ``native_id`` of this process has run so far."""
    with open(f"/proc/self/task/{native_id}/schedstat") as stat:
        return int(stat.read().split()[0]) / 1e9


def build_history(path: Path, jobs: int) -> float | None:
    """Fill ``path`` (unless it exists) and return the seconds it took."""
    if path.exists():
        return None
    from benchmarks.history_scale import fill
    from seisproc.history import JobHistoryStorage

    store = JobHistoryStorage(f"sqlite:///{path}")
    try:
        return fill(store, jobs, datetime.now(UTC))
    finally:
        store.close()


class _Probe:
    """Notes when the job table first paints rows."""

    def __init__(self, window: Any) -> None:
        from PySide6.QtCore import QEvent, QObject

        self.first_rows: float | None = None
        model = window.dashboard.model
        probe = self

        class Filter(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if (event.type() == QEvent.Type.Paint and probe.first_rows is None
                        and model.rowCount() > 0):
                    probe.first_rows = time.perf_counter()
                return False

        self._filter = Filter()
        window.dashboard.view.viewport().installEventFilter(self._filter)


def run_events_for(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def cpu_phase(window: Any, seconds: float) -> dict[str, float]:
    """% of one core of the feed's thread, the GUI thread and the process."""
    feed_tid = window.dashboard.history_feed.native_thread_id
    gui_tid = threading.get_native_id()
    feed0, gui0, process0 = thread_cpu_s(feed_tid), thread_cpu_s(gui_tid), time.process_time()
    wall0 = time.perf_counter()
    run_events_for(seconds)
    wall = time.perf_counter() - wall0
    return {"seconds": round(wall, 2),
            "feed_thread_cpu_percent": round(100 * (thread_cpu_s(feed_tid) - feed0) / wall, 3),
            "gui_thread_cpu_percent": round(100 * (thread_cpu_s(gui_tid) - gui0) / wall, 3),
            "process_cpu_percent": round(100 * (time.process_time() - process0) / wall, 3),
            "rows": window.dashboard.model.rowCount()}


def open_window(seconds: float) -> dict[str, Any]:
    """Open the window on ``SEISPROC_HOME``'s history and measure it."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    QSettings.setPath(QSettings.defaultFormat(), QSettings.Scope.UserScope,
                      tempfile.mkdtemp(prefix="window-scale-settings-"))  # the default layout
    from seisproc.gui.app import build_main_window

    with contextlib.ExitStack() as cleanup:
        started, cpu_started = time.perf_counter(), time.process_time()
        window = build_main_window(cleanup)
        built = time.perf_counter()
        probe = _Probe(window)
        window.resize(1400, 850)
        window.show()
        deadline = time.perf_counter() + 120
        while probe.first_rows is None and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.002)
        cpu_s = time.process_time() - cpu_started
        if probe.first_rows is None:
            raise SystemExit("the job table never painted a row in 120 s")
        report: dict[str, Any] = {"window": {
            "built_s": round(built - started, 3),
            "first_rows_s": round(probe.first_rows - started, 3),
            "first_rows_cpu_s": round(cpu_s, 3),
            "since_start_s": round(probe.first_rows - STARTED, 3)}}
        run_events_for(1.0)  # the first poll, the monitor's first samples
        report["idle"] = cpu_phase(window, seconds)
        writer = subprocess.Popen([sys.executable, "-m", "benchmarks.window_scale", "--writer",
                                   str(seconds + 2)], env=os.environ.copy(),
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert writer.stdout is not None
            writer.stdout.readline()  # "saving": its first saves are made
            run_events_for(0.5)
            report["busy"] = cpu_phase(window, seconds)
        finally:
            writer.wait(timeout=60)
        window.quit_with("pause")
    return report


def write_progress(seconds: float) -> None:
    """``--writer``: save :data:`WRITER_JOBS` running jobs' progress, 4 times a second."""
    import dataclasses

    from seisproc.engine import open_store
    from seisproc.jobs.model import Job, JobProgress, JobState, utcnow
    from seisproc.jobs.transitions import transition

    store = open_store()
    jobs = [transition(Job(id=f"w{os.getpid():05d}{n:04d}", name=f"writer {n}",
                           owner=f"bench:{os.getpid()}",
                           progress=JobProgress(0, 1000, 0, 100_000)), JobState.RUNNING)
            for n in range(WRITER_JOBS)]
    deadline = time.monotonic() + seconds
    step = 0
    while time.monotonic() < deadline:
        step += 1
        for i, job in enumerate(jobs):
            jobs[i] = dataclasses.replace(job, updated_at=utcnow(), progress=JobProgress(
                step, 1000, 100 * step, 100_000, traces_per_s=400.0))
            store.save_job(jobs[i])
        if step == 1:
            print("saving", flush=True)
        time.sleep(1 / WRITER_HZ)
    store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db", type=Path, help="the history file to create, or reuse")
    parser.add_argument("--quick", action="store_true", help="20,000 jobs, 3 s per phase")
    parser.add_argument("--writer", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer is not None:
        write_progress(args.writer)
        return
    if args.quick:
        args.jobs, args.seconds = 20_000, 3.0
    home = Path(tempfile.mkdtemp(prefix="window-scale-"))
    os.environ["SEISPROC_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        report = run(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(report, indent=2))


def run(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    path = (args.db or home / "job_history.db").resolve()
    fill_s = build_history(path, args.jobs)
    os.environ["SEISPROC_DATABASE_URL"] = f"sqlite:///{path}"  # the writer's too
    note("opening the window")
    measured = open_window(args.seconds)
    window, idle, busy = measured["window"], measured["idle"], measured["busy"]
    return {
        "benchmark": "window_scale", "quick": args.quick, "jobs": args.jobs,
        "fill_s": None if fill_s is None else round(fill_s, 1),
        "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
        **measured,
        "targets": {"first_rows_s": TARGET_FIRST_ROWS_S,
                    "feed_thread_cpu_percent": TARGET_FEED_CPU_PERCENT},
        "met": {"first_rows_s": window["first_rows_s"] < TARGET_FIRST_ROWS_S,
                "feed_idle": idle["feed_thread_cpu_percent"] < TARGET_FEED_CPU_PERCENT,
                "feed_busy": busy["feed_thread_cpu_percent"] < TARGET_FEED_CPU_PERCENT},
    }


if __name__ == "__main__":
    main()
