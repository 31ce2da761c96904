"""Helpers for alert tests: snapshots built by hand, a clock the test moves."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from seisproc.alerts import Alert
from seisproc.monitoring import JobMetrics, ResourceSnapshot


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_snapshot(memory_percent: float = 40.0, jobs: tuple[JobMetrics, ...] = (),
                  **fields: Any) -> ResourceSnapshot:
    """A plausible snapshot; ``fields`` override any attribute."""
    values: dict[str, Any] = dict(
        at=datetime(2026, 3, 1, tzinfo=UTC), monotonic_s=0.0, interval_s=1.0,
        cpu_percent=20.0, cpu_per_core=(20.0, 20.0), memory_percent=memory_percent,
        memory_used_bytes=4 << 30, memory_total_bytes=16 << 30, swap_percent=0.0,
        jobs=jobs, metrics={"job_no_progress_seconds": max(
            (j.no_progress_seconds for j in jobs if j.state == "RUNNING"), default=0.0)})
    values.update(fields)
    return ResourceSnapshot(**values)


def running_job(job_id: str = "a1b2c3d4e5f6", name: str = "shots-bp", **fields: Any,
                ) -> JobMetrics:
    values: dict[str, Any] = dict(job_id=job_id, name=name, state="RUNNING",
                                  traces_per_s=1000.0, running_seconds=120.0)
    values.update(fields)
    return JobMetrics(**values)


class Recorder:
    """An action that remembers what it got, and when (monotonic seconds)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.times: list[float] = []

    def __call__(self, alert: Alert) -> None:
        self.times.append(time.monotonic())
        self.alerts.append(alert)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll ``predicate`` until true or the timeout; the final verdict."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


@contextlib.contextmanager
def local_http_server(handler: type[BaseHTTPRequestHandler],
                      **state: Any) -> Iterator[ThreadingHTTPServer]:
    """An HTTP server on 127.0.0.1 (an ephemeral port) in a thread, with ``state`` set as
    attributes the handler reads and writes; shut down on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in state.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
