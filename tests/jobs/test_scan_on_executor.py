"""The engine hands the header scan of an input not yet indexed to an executor that can
do it (the :class:`~seisproc.jobs.ports.HeaderScanner` port), and shows the scan on the
job; one that cannot leaves it to the planner."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.scan import read_header_range, split_ranges
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.jobs.ports import HeaderScanner
from seisproc.processing.flow import Flow


class ScanningExecutor(ThreadExecutor):
    """The in-process executor with the scan port: ranges read on a pool of its own."""

    def __init__(self) -> None:
        super().__init__(workers=2)
        self.ranges: list[tuple[int, int]] = []
        self.threads: set[str] = set()

    def scan_headers(self, path: Path, key: str, n_traces: int
                     ) -> Iterator[tuple[int, np.ndarray]]:
        def read(first: int, stop: int) -> tuple[int, np.ndarray]:
            self.threads.add(threading.current_thread().name)
            return first, read_header_range(path, key, first, stop)

        with ThreadPoolExecutor(2, thread_name_prefix="scan") as pool:
            for first, stop in split_ranges(n_traces, 2):
                self.ranges.append((first, stop))
            yield from pool.map(lambda r: read(*r), list(self.ranges))


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_survey(tmp_path_factory.mktemp("scan") / "shots.sgy",
                             SurveyGeometry(shots=6, channels=24, samples=251, dt_ms=4.0))


def flow_to(survey: Path, output: Path) -> Flow:
    return Flow.from_mapping({"name": "scan", "input": str(survey), "output": str(output),
                              "gather_by": "ffid", "steps": [{"agc": {"window_ms": 200}}]})


def run(executor: ThreadExecutor, flow: Flow, home: Path) -> tuple[JobState, list[JobEvent]]:
    manager = JobManager(MemoryJobStore(), lambda: executor, CheckpointStore(home),
                         gathers_per_unit=1)
    events: list[JobEvent] = []
    manager.subscribe(events.append)
    try:
        job = manager.wait(manager.submit(flow).id, timeout_s=60)
    finally:
        manager.close(active="cancel")
    return job.state, events


def test_an_executor_with_the_scan_port_reads_the_headers_and_the_job_shows_it(
        survey: Path, tmp_path: Path) -> None:
    executor = ScanningExecutor()
    assert isinstance(executor, HeaderScanner)
    state, events = run(executor, flow_to(survey, tmp_path / "a.sgy"), tmp_path / "c")
    assert state is JobState.COMPLETED
    assert executor.ranges == [(0, 36), (36, 72), (72, 108), (108, 144)]
    assert executor.threads and all(t.startswith("scan") for t in executor.threads)
    scans = [e for e in events if e.kind is JobEventKind.PROGRESS and "scanned" in e.detail]
    assert scans and scans[-1].detail == {"scanned": 144, "traces_total": 144}
    assert scans[-1].job.message == "indexing the input: 144 of 144 trace headers read (100%)"
    assert scans[-1].job.state is JobState.RUNNING


def test_the_output_is_the_same_whoever_scanned_the_headers(
        survey: Path, tmp_path: Path, seisproc_home: Path) -> None:
    run(ScanningExecutor(), flow_to(survey, tmp_path / "workers.sgy"), tmp_path / "c1")
    shutil.rmtree(seisproc_home / "index-cache")  # the planner must scan again, itself
    state, events = run(ThreadExecutor(), flow_to(survey, tmp_path / "planner.sgy"),
                        tmp_path / "c2")
    assert state is JobState.COMPLETED
    assert [e.detail for e in events if "scanned" in e.detail][-1]["scanned"] == 144
    assert (tmp_path / "workers.sgy").read_bytes()[3200:] == (
        tmp_path / "planner.sgy").read_bytes()[3200:]


class SlowScanner(ThreadExecutor):
    """A scan of one range a trace, a tenth of a second each: 14 s for the survey."""

    def __init__(self) -> None:
        super().__init__(workers=2)
        self.read = 0

    def scan_headers(self, path: Path, key: str, n_traces: int
                     ) -> Iterator[tuple[int, np.ndarray]]:
        for first in range(n_traces):
            time.sleep(0.1)
            self.read += 1
            yield first, read_header_range(path, key, first, first + 1)


def test_a_job_cancelled_while_its_input_is_scanned_stops_the_scan_at_the_next_range(
        survey: Path, tmp_path: Path) -> None:
    executor = SlowScanner()
    manager = JobManager(MemoryJobStore(), lambda: executor, CheckpointStore(tmp_path / "c"),
                         gathers_per_unit=1)
    scanned = threading.Event()
    manager.subscribe(lambda e: scanned.set() if "scanned" in e.detail else None)
    try:
        job = manager.submit(flow_to(survey, tmp_path / "x.sgy"))
        assert scanned.wait(30)
        started = time.monotonic()
        manager.cancel(job.id)
        ended = manager.wait(job.id, timeout_s=10)
        cancel_s = time.monotonic() - started
    finally:
        manager.close(active="cancel")
    assert ended.state is JobState.CANCELLED and cancel_s < 1.0
    assert executor.read < 30  # of 144 ranges
    assert not (tmp_path / "x.sgy").exists() and list(tmp_path.glob(".x.sgy*")) == []
