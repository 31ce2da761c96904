"""The header scan on the Ray workers: ranges read by the actors and merged by the driver,
and the crash-resume acceptance on that path.

A driver process whose own header reader fails (``parallel_index_driver.py``) plans and
runs a job: the index can only have come from the workers. SIGKILLed at half-way, a new
driver resumes it, and the output is byte for byte the flow applied without the engine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import ray

import seisproc.io.scan as scan
from reference_outputs import reference_output
from seisproc.history import JobHistoryStorage
from seisproc.io import SurveyGeometry, open_segy, synthesize_survey
from seisproc.io.headers import header_field
from seisproc.io.scan import read_header_column
from seisproc.jobs.model import JobState
from seisproc.orchestration import RayExecutor
from seisproc.processing.flow import Flow

DRIVER = Path(__file__).with_name("parallel_index_driver.py")
SLOW_STEPS = [{"spiking_decon": {"operator_ms": 400}}] * 3 + [
    {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 500}}]


@pytest.fixture(scope="module")
def big_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Many gathers: a job of several seconds on 2 workers, with units to kill between."""
    return synthesize_survey(tmp_path_factory.mktemp("scan-survey") / "shots.sgy",
                             SurveyGeometry(shots=120, channels=96, samples=1001, dt_ms=4.0))


def test_the_ray_workers_read_the_header_ranges_and_the_driver_merges_them(
        ray_cluster: None, big_survey: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    field = header_field("ffid")
    with open_segy(big_survey) as segy:
        layout, expected = segy.layout, segy.header_values(field)
    monkeypatch.setattr(scan, "read_header_range", lambda *a: pytest.fail("read here"))
    executor = RayExecutor(workers=2, warm=False, scan_min_traces=0)
    try:
        heard: list[int] = []
        column = read_header_column(big_survey, layout, field, scan=executor.scan_headers,
                                    on_scanned=lambda done, total: heard.append(done))
    finally:
        executor.shutdown()
    np.testing.assert_array_equal(column, expected)
    assert len(heard) == 4 and heard[-1] == layout.n_traces  # two ranges per worker


def test_ranges_of_a_worker_that_died_are_read_by_its_replacement(
        ray_cluster: None, big_survey: Path) -> None:
    field = header_field("ffid")
    with open_segy(big_survey) as segy:
        layout, expected = segy.layout, segy.header_values(field)
    executor = RayExecutor(workers=2, warm=False, scan_min_traces=0)
    try:
        executor.wait_ready(timeout_s=60)
        dead = executor.workers()[0].actor
        ray.kill(dead, no_restart=True)
        column = read_header_column(big_survey, layout, field, scan=executor.scan_headers)
        alive = [w.actor for w in executor.workers()]
    finally:
        executor.shutdown()
    np.testing.assert_array_equal(column, expected)
    assert dead not in alive and len(alive) == 2


def test_a_survey_smaller_than_a_range_is_read_by_the_driver_without_a_round_trip(
        ray_cluster: None, big_survey: Path) -> None:
    executor = RayExecutor(workers=2, warm=False)  # actors still starting: not waited for
    try:
        ranges = list(executor.scan_headers(big_survey, "FieldRecord", 120 * 96))
    finally:
        executor.shutdown()
    assert [(first, len(column)) for first, column in ranges] == [(0, 120 * 96)]


def run_driver(*args: str) -> subprocess.Popen[str]:
    address = ray.get_runtime_context().gcs_address
    return subprocess.Popen([sys.executable, str(DRIVER), address, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_for_half(history: Path, deadline_s: float = 180) -> str:
    """The job's id once the history shows it half done (progress saved every 0.5 s)."""
    store = JobHistoryStorage(f"sqlite:///{history}")
    try:
        stop = time.monotonic() + deadline_s
        while time.monotonic() < stop:
            jobs = store.get_recent(1) if history.exists() else []
            if jobs and jobs[0].progress.fraction >= 0.5:
                assert jobs[0].progress.fraction < 1.0, "the job ended before the kill"
                return jobs[0].id
            time.sleep(0.05)
    finally:
        store.close()
    raise AssertionError("the job never got half-way")


def test_sigkill_at_half_way_then_resume_gives_identical_output_with_a_parallel_index(
        ray_cluster: None, big_survey: Path, tmp_path: Path) -> None:
    flow = Flow.from_mapping({"name": "scan", "input": str(big_survey),
                              "output": str(tmp_path / "out.sgy"), "gather_by": "ffid",
                              "steps": SLOW_STEPS})
    (tmp_path / "flow.json").write_text(json.dumps(flow.to_mapping(), default=str))
    history, checkpoints = tmp_path / "history.db", tmp_path / "checkpoints"
    first = run_driver(str(history), str(checkpoints), "run", str(tmp_path / "flow.json"))
    job_id = wait_for_half(history)
    os.killpg(first.pid, signal.SIGKILL)
    said, _ = first.communicate(timeout=30)
    assert f"scanned {120 * 96} {120 * 96}" in said, said
    assert not (tmp_path / "out.sgy").exists()

    second = run_driver(str(history), str(checkpoints), "resume", job_id)
    said, _ = second.communicate(timeout=600)
    assert second.returncode == 0 and "state COMPLETED" in said, said
    assert "scanned" not in said  # the index the workers built is the cache now
    reference = reference_output(flow.model_copy(update={"output": tmp_path / "ref.sgy"}))
    assert (tmp_path / "out.sgy").read_bytes()[3200:] == reference.read_bytes()[3200:]
    store = JobHistoryStorage(f"sqlite:///{history}")
    try:
        assert store.get_job(job_id).state is JobState.COMPLETED
    finally:
        store.close()
