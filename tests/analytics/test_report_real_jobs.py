"""``seisproc report`` on a history filled by real jobs draws every chart with data.

Jobs run through a JobManager on the SQLite history (the in-process ThreadExecutor in
place of Ray): some complete, one fails on a bad input, one is cancelled. Meanwhile this
process's own CPU, memory and I/O are sampled (from the standard library, so the test
needs no monitoring package) into the history's resource samples.
"""

from __future__ import annotations

import os
import resource
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from seisproc.cli.main import cli
from seisproc.history import JobHistoryStorage, ResourceSample
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import ThreadExecutor
from seisproc.jobs.model import JobState, JobType
from seisproc.processing.flow import Flow

SVG = "{http://www.w3.org/2000/svg}"
STEPS = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 200}}]
SLOW = [{"spiking_decon": {"operator_ms": 400}}] * 6 + STEPS


class Sampler(threading.Thread):
    """This process's CPU %, memory % and read/write MB/s, every ``interval_s``."""

    def __init__(self, store: JobHistoryStorage, interval_s: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.store, self.interval_s = store, interval_s
        self.stopped = threading.Event()
        self.memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")

    def run(self) -> None:
        wall, cpu, io = time.monotonic(), time.process_time(), self._io()
        while not self.stopped.wait(self.interval_s):
            now_wall, now_cpu, now_io = time.monotonic(), time.process_time(), self._io()
            elapsed = now_wall - wall
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            self.store.save_resource_samples([ResourceSample(
                datetime.now(UTC), 100 * (now_cpu - cpu) / elapsed / (os.cpu_count() or 1),
                100 * rss / self.memory_bytes, None, (now_io[0] - io[0]) / elapsed / 1e6,
                (now_io[1] - io[1]) / elapsed / 1e6, threading.active_count())])
            wall, cpu, io = now_wall, now_cpu, now_io

    @staticmethod
    def _io() -> tuple[int, int]:
        try:
            fields = dict(line.split(": ") for line in
                          Path("/proc/self/io").read_text().splitlines())
            return int(fields["rchar"]), int(fields["wchar"])
        except OSError:
            return 0, 0


@pytest.fixture
def history_of_real_jobs(tmp_path: Path) -> Iterator[str]:
    survey = synthesize_survey(tmp_path / "shots.sgy",
                               SurveyGeometry(shots=24, channels=48, samples=751, dt_ms=4.0))
    url = f"sqlite:///{tmp_path / 'history.db'}"
    store = JobHistoryStorage(url)
    manager = JobManager(store, lambda: ThreadExecutor(workers=2),
                         CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=1)
    sampler = Sampler(store)
    sampler.start()
    try:
        run_jobs(manager, survey, tmp_path)
        time.sleep(0.2)
    finally:
        sampler.stopped.set()
        sampler.join()
        manager.close(active="cancel")
        store.close()
    yield url


def run_jobs(manager: JobManager, survey: Path, folder: Path) -> None:
    def flow(name: str, steps: list[dict[str, object]], source: Path = survey) -> Flow:
        return Flow.from_mapping({"name": name, "input": str(source),
                                  "output": str(folder / f"{name}.sgy"), "steps": steps})

    for i, job_type in enumerate([JobType.PROCESSING, JobType.PROCESSING, JobType.QC]):
        done = manager.wait(manager.submit(flow(f"ok{i}", STEPS), job_type=job_type).id, 60)
        assert done.state is JobState.COMPLETED, done.message
    (folder / "bad.sgy").write_bytes(b"not seismic" * 500)
    failed = manager.submit(flow("bad_out", STEPS, folder / "bad.sgy"))
    assert manager.wait(failed.id, 30).state is JobState.FAILED
    slow = manager.submit(flow("slow", SLOW))
    manager.wait(slow.id, 30, until=lambda job: job.progress.units_done > 0)
    manager.cancel(slow.id)
    assert manager.wait(slow.id, 30).state is JobState.CANCELLED


def test_report_of_real_jobs_draws_every_chart_with_data(history_of_real_jobs: str,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "--out", str(out), "--days", "7",
                                      "--database-url", history_of_real_jobs])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    charts = [html[start:html.index("</svg>", start) + 6]
              for start in range(len(html)) if html.startswith("<svg", start)]
    assert len(charts) >= 5
    titles = []
    for svg in charts:
        root = ET.fromstring(svg)
        titles.append(next(root.iter(f"{SVG}text")).text)
        assert "no data in this period" not in svg, titles[-1]
        marks = [e for e in root.iter() if e.tag.removeprefix(SVG) in (
            "path", "circle", "polyline") or (e.tag == f"{SVG}rect" and e.get("rx") == "3")]
        assert marks, f"{titles[-1]}: nothing drawn"
    assert titles[:5] == ["Jobs by status", "Jobs over time (per day)",
                          "Average duration by job type (completed jobs)",
                          "Success / failure rate of ended jobs (per day)",
                          "Resource utilisation over time (UTC)"]
    assert "60.0 %" in html, "3 of 5 ended jobs completed"
