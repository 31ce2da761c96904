"""``seisproc run --address`` where no cluster listens: one clear line, exit 1, in seconds,
and the job recorded as FAILED with that message (it used to stay QUEUED forever)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from seisproc.history import JobHistoryStorage
from seisproc.jobs.model import JobState

FLOW = """\
name: agc
input: shots.sgy
output: shots_agc.sgy
gather_by: ffid
steps:
  - agc: {window_ms: 500}
"""


def free_port() -> int:
    """A port nothing listens on, on any of this machine's addresses."""
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


def test_run_on_an_address_where_nothing_listens_fails_in_seconds_with_one_line(
        small_survey: Path, seisproc_home: Path, tmp_path: Path) -> None:
    shutil.copy(small_survey, tmp_path / "shots.sgy")
    (tmp_path / "flow.yaml").write_text(FLOW)
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "SEISPROC_HOME": str(seisproc_home), "RAY_AUTH_MODE": "disabled"}
    env.pop("SEISPROC_RAY_ADDRESS", None)
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "seisproc", "run", "flow.yaml",
                           "--address", address], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert time.monotonic() - began < 30
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr and "Failed to connect to GCS" not in proc.stderr
    last = lines[-1]
    assert last.startswith("error: job ") and " failed: the workers could not start: " in last
    assert f"cannot reach a Ray cluster at {address} (nothing listens on " in last
    assert "'ray start --head'" in last and "leave out --address" in last
    assert not (tmp_path / "shots_agc.sgy").exists()

    store = JobHistoryStorage()  # the history in SEISPROC_HOME, as the run used it
    try:
        (job,) = store.list_jobs()
    finally:
        store.close()
    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.type == "ClusterUnreachable"
    assert address in job.error.message and job.error.traceback == ""
