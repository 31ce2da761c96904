"""Jobs from the command line, as a user runs them: real processes, a real Ray cluster.

Covers the engine issue's acceptance: SIGKILL of the process owning the JobManager at
about half-way, then ``seisproc resume`` in a new process gives byte-identical output;
Ctrl-C cancels (or pauses); pause and cancel from a second terminal.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from seisproc.history import JobHistoryStorage
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.model import Job, JobState

SEISPROC = [sys.executable, "-m", "seisproc"]
FLOW = """\
name: decon-bandpass-agc
input: shots.sgy
output: {output}
gather_by: ffid
steps:
  - spiking_decon: {{operator_ms: 160}}
  - bandpass: {{f1: 5, f2: 10, f3: 60, f4: 80}}
  - agc: {{window_ms: 500}}
"""


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Big enough for a job of several seconds on 2 cores, with many units to kill between."""
    folder = tmp_path_factory.mktemp("survey")
    return synthesize_survey(folder / "shots.sgy",
                             SurveyGeometry(shots=160, channels=96, samples=1001, dt_ms=4.0))


@pytest.fixture
def project(survey: Path, tmp_path: Path) -> Path:
    (tmp_path / "shots.sgy").symlink_to(survey)
    for name in ("out", "ref"):
        (tmp_path / f"{name}.yaml").write_text(FLOW.format(output=f"{name}.sgy"))
    for name, output in (("slow", "out.sgy"), ("slow_ref", "ref.sgy")):
        slow = FLOW.format(output=output).replace(
            "  - bandpass:", "  - spiking_decon: {operator_ms: 400}\n" * 4 + "  - bandpass:")
        (tmp_path / f"{name}.yaml").write_text(slow)
    return tmp_path


def seisproc(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*SEISPROC, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*SEISPROC, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def store(env: dict[str, str]) -> JobHistoryStorage:
    return JobHistoryStorage(f"sqlite:///{env['SEISPROC_HOME']}/job_history.db")


def wait_for(env: dict[str, str], check: Callable[[Job], bool], timeout: float = 120) -> Job:
    deadline = time.monotonic() + timeout
    history = store(env)
    try:
        while time.monotonic() < deadline:
            jobs = history.get_recent(5)
            if jobs and check(jobs[0]):
                return jobs[0]
            time.sleep(0.05)
    finally:
        history.close()
    raise AssertionError("the job never reached the expected state")


def test_sigkill_at_half_way_then_resume_gives_identical_output(project: Path,
                                                                cli_env: dict) -> None:
    # The slow flow: the history shows progress every half second, and the second half
    # of the job must outlast that, even on a loaded machine.
    proc = start(cli_env, "run", str(project / "slow.yaml"))
    job = wait_for(cli_env, lambda j: j.progress.fraction >= 0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert not (project / "out.sgy").exists()

    listed = json.loads(seisproc(cli_env, "jobs", "--json").stdout)
    assert listed[0]["id"] == job.id and listed[0]["state"] == "INTERRUPTED"
    assert 0.5 <= listed[0]["progress"] < 1.0

    resumed = seisproc(cli_env, "resume", job.id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert wait_for(cli_env, lambda j: j.id == job.id).state is JobState.COMPLETED

    reference = seisproc(cli_env, "run", str(project / "slow_ref.yaml"))
    assert reference.returncode == 0, reference.stderr
    assert (project / "out.sgy").read_bytes() == (project / "ref.sgy").read_bytes()


def test_ctrl_c_cancels_cleanly(project: Path, cli_env: dict) -> None:
    proc = start(cli_env, "run", str(project / "out.yaml"))
    job = wait_for(cli_env, lambda j: j.progress.units_done >= 2)
    os.kill(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "was cancelled" in output and "Traceback" not in output
    assert wait_for(cli_env, lambda j: j.id == job.id).state is JobState.CANCELLED
    assert list(project.glob("*partial*")) == [] and list(project.glob(".*partial*")) == []
    assert not (project / "out.sgy").exists()


def test_ctrl_c_with_pause_leaves_a_resumable_job(project: Path, cli_env: dict) -> None:
    proc = start(cli_env, "run", str(project / "out.yaml"), "--on-interrupt", "pause")
    job = wait_for(cli_env, lambda j: j.progress.units_done >= 2)
    os.kill(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert f"seisproc resume {job.id}" in output
    assert wait_for(cli_env, lambda j: j.id == job.id).state is JobState.PAUSED
    assert seisproc(cli_env, "resume", job.id).returncode == 0
    assert (project / "out.sgy").exists()


def detach(env: dict[str, str], flow: Path) -> str:
    detached = seisproc(env, "run", str(flow), "--detach")
    assert detached.returncode == 0, detached.stderr
    return detached.stdout.split()[1]


def test_pause_and_resume_from_a_second_terminal(project: Path, cli_env: dict) -> None:
    job_id = detach(cli_env, project / "slow.yaml")
    wait_for(cli_env, lambda j: j.id == job_id and j.progress.units_done >= 1)

    paused = seisproc(cli_env, "pause", job_id)
    assert f"job {job_id} PAUSED" in paused.stdout, paused.stdout + paused.stderr
    time.sleep(1.0)  # units in flight land
    paused_job = wait_for(cli_env, lambda j: j.id == job_id)
    assert re.fullmatch(rf"paused by user from {re.escape(socket.gethostname())}:\d+",
                        paused_job.message), paused_job.message
    frozen = paused_job.progress.units_done
    time.sleep(1.5)
    assert wait_for(cli_env, lambda j: j.id == job_id).progress.units_done == frozen

    assert f"job {job_id} RUNNING" in seisproc(cli_env, "resume", job_id).stdout
    assert wait_for(cli_env, lambda j: j.id == job_id and j.state.is_terminal()).state is (
        JobState.COMPLETED)
    assert (project / "out.sgy").exists()


def test_cancel_from_a_second_terminal(project: Path, cli_env: dict) -> None:
    job_id = detach(cli_env, project / "slow.yaml")
    wait_for(cli_env, lambda j: j.id == job_id and j.progress.units_done >= 1)
    cancelled = seisproc(cli_env, "cancel", job_id)
    assert f"job {job_id} CANCELLED" in cancelled.stdout, cancelled.stdout + cancelled.stderr
    assert wait_for(cli_env, lambda j: j.id == job_id).message.startswith(
        "cancelled by user from ")
    assert not (project / "out.sgy").exists()
    assert list(project.glob(".*partial*")) == []


def test_jobs_json_lists_id_name_state_progress_output(project: Path, cli_env: dict) -> None:
    done = seisproc(cli_env, "run", str(project / "out.yaml"))
    assert done.returncode == 0, done.stderr
    (listed,) = json.loads(seisproc(cli_env, "jobs", "--json").stdout)
    assert listed["name"] == "decon-bandpass-agc" and listed["state"] == "COMPLETED"
    assert listed["progress"] == 1.0 and listed["output"] == str(project / "out.sgy")
    table = seisproc(cli_env, "jobs").stdout
    assert listed["id"] in table and "COMPLETED" in table
