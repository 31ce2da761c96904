"""Helpers of the stress tests (no fixtures): flows, references, clocks, memory, a job owner.

Run as a script, this module is the process that owns jobs in the kill-and-resume test:

    python tests/stress_helpers.py RAY_ADDRESS FLOWS_JSON

It joins the Ray cluster at ``RAY_ADDRESS``, submits every flow of ``FLOWS_JSON`` (a JSON
list of flow mappings) to a JobManager of the default wiring (history in
``SEISPROC_HOME``), prints ``submitted`` and runs them until it is killed.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from reference_outputs import reference_output, same_data
from seisproc.io import SurveyGeometry
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import JobState
from seisproc.processing import Flow

__all__ = ["CANCEL_STEPS", "STEP_SETS", "MEMORY_GEOMETRY", "STRESS_GEOMETRY", "StateClock",
           "make_flow", "open_files", "reference_output", "rss_mb", "same_data", "summary_ms"]

STRESS_GEOMETRY = SurveyGeometry(shots=96, channels=48, samples=501, dt_ms=4.0)
"""9.3 MB, 96 gathers: 24 units of 4 gathers per job."""
MEMORY_GEOMETRY = SurveyGeometry(shots=16, channels=48, samples=501, dt_ms=4.0)
"""1.5 MB, 4 units per job: a leak of one job's data would show within a few jobs."""

BANDPASS = {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}
DECON = {"spiking_decon": {"operator_ms": 400}}
STEP_SETS: list[list[dict[str, Any]]] = [
    [BANDPASS, DECON, {"agc": {"window_ms": 500}}],
    [DECON, {"normalize": {"method": "rms"}}],
    [{"tpow": {"power": 2.0}}, DECON, BANDPASS],
    [{"butterworth": {"low_hz": 8.0, "high_hz": 60.0, "order": 4}}, DECON,
     {"agc": {"window_ms": 250}}],
]
"""Four different flows, each with a spiking decon (a few ms per gather), so jobs last long
enough to be caught running; job ``i`` of a batch uses ``STEP_SETS[i % 4]``."""
CANCEL_STEPS: list[dict[str, Any]] = [DECON, DECON, DECON, DECON, BANDPASS]
"""About 4x the work of a step set: 20 jobs of it keep 2 workers busy for tens of seconds."""


def make_flow(survey: Path, output: Path, steps: list[dict[str, Any]],
              name: str = "stress") -> Flow:
    return Flow.from_mapping({"name": name, "input": str(survey), "output": str(output),
                              "gather_by": "ffid", "steps": steps})


class StateClock:
    """A job-event subscriber: when (``time.perf_counter``) each job reached each state,
    and the most jobs RUNNING at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reached: dict[str, dict[JobState, float]] = {}
        self.running: set[str] = set()
        self.peak_running = 0
        self.resumed_at_unit: dict[str, int] = {}
        """Per job resumed from a checkpoint: the units already done when it restarted."""

    def __call__(self, event: JobEvent) -> None:
        now = time.perf_counter()
        job = event.job
        with self._lock:
            self.reached.setdefault(job.id, {}).setdefault(job.state, now)
            if job.state is JobState.RUNNING:
                self.running.add(job.id)
            else:
                self.running.discard(job.id)
            self.peak_running = max(self.peak_running, len(self.running))
            if event.kind is JobEventKind.PROGRESS and job.message.startswith("resumed at unit"):
                self.resumed_at_unit[job.id] = int(job.message.split()[3])

    def when(self, job_id: str, state: JobState) -> float:
        """When the job reached ``state``; fails the test if it never did."""
        with self._lock:
            reached = self.reached.get(job_id, {})
        assert state in reached, f"job {job_id} never reached {state.value}"
        return reached[state]


def summary_ms(seconds: Sequence[float]) -> str:
    """``median / max`` of durations, in ms, for the test's report line."""
    ms = [s * 1000 for s in seconds]
    return f"median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms, n={len(ms)}"


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MiB."""
    return psutil.Process(pid).memory_info().rss / 2**20


def open_files(pid: int) -> int:
    """File descriptors a process holds open (a survey left open per job shows here)."""
    return psutil.Process(pid).num_fds()


def _own_jobs(address: str, flows_json: Path) -> None:
    from seisproc.engine import open_manager

    manager = open_manager(address=address, workers=2, max_running=20)
    for mapping in json.loads(flows_json.read_text()):
        manager.submit(Flow.from_mapping(mapping))
    print("submitted", flush=True)
    time.sleep(600)  # the test kills this process long before
    manager.close(active="cancel")


if __name__ == "__main__":
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    _own_jobs(sys.argv[1], Path(sys.argv[2]))
