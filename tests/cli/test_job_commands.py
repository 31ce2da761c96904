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
import time
from pathlib import Path

from job_helpers import project_on, seisproc, start, wait_for

from seisproc.jobs.model import JobState


def test_sigkill_at_half_way_then_resume_gives_identical_output(job_project: Path,
                                                                cli_env: dict) -> None:
    # The slow flow: the history shows progress every half second, and the second half
    # of the job must outlast that, even on a loaded machine.
    proc = start(cli_env, "run", str(job_project / "slow.yaml"))
    job = wait_for(cli_env, lambda j: j.progress.fraction >= 0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert not (job_project / "out.sgy").exists()

    listed = json.loads(seisproc(cli_env, "jobs", "--json").stdout)
    assert listed[0]["id"] == job.id and listed[0]["state"] == "INTERRUPTED"
    assert 0.5 <= listed[0]["progress"] < 1.0

    resumed = seisproc(cli_env, "resume", job.id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert wait_for(cli_env, lambda j: j.id == job.id).state is JobState.COMPLETED

    reference = seisproc(cli_env, "run", str(job_project / "slow_ref.yaml"))
    assert reference.returncode == 0, reference.stderr
    assert (job_project / "out.sgy").read_bytes() == (job_project / "ref.sgy").read_bytes()


def test_ctrl_c_cancels_cleanly(job_project: Path, cli_env: dict) -> None:
    proc = start(cli_env, "run", str(job_project / "slow.yaml"))  # outlasts a loaded machine
    job = wait_for(cli_env, lambda j: j.progress.units_done >= 2)
    os.kill(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "was cancelled" in output and "Traceback" not in output
    assert wait_for(cli_env, lambda j: j.id == job.id).state is JobState.CANCELLED
    assert list(job_project.glob("*partial*")) == [] and list(job_project.glob(".*partial*")) == []
    assert not (job_project / "out.sgy").exists()


def test_ctrl_c_with_pause_leaves_a_resumable_job(job_project: Path, cli_env: dict) -> None:
    proc = start(cli_env, "run", str(job_project / "slow.yaml"), "--on-interrupt", "pause")
    job = wait_for(cli_env, lambda j: j.progress.units_done >= 2)
    os.kill(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert f"seisproc resume {job.id}" in output
    assert wait_for(cli_env, lambda j: j.id == job.id).state is JobState.PAUSED
    assert seisproc(cli_env, "resume", job.id).returncode == 0
    assert (job_project / "out.sgy").exists()


def detach(env: dict[str, str], flow: Path) -> str:
    detached = seisproc(env, "run", str(flow), "--detach")
    assert detached.returncode == 0, detached.stderr
    return detached.stdout.split()[1]


def units_once_settled(env: dict[str, str], job_id: str, quiet_s: float = 1.5) -> int:
    """The job's done units once they stopped changing for ``quiet_s`` (a paused job's
    units in flight take a unit's time to land; a job that never settles fails here)."""
    done = wait_for(env, lambda j: j.id == job_id).progress.units_done
    since = time.monotonic()
    deadline = since + 60
    while time.monotonic() - since < quiet_s:
        assert time.monotonic() < deadline, f"a paused job still completes units ({done})"
        time.sleep(0.1)
        now = wait_for(env, lambda j: j.id == job_id).progress.units_done
        if now != done:
            done, since = now, time.monotonic()
    return done


def test_pause_and_resume_from_a_second_terminal(job_project: Path, cli_env: dict) -> None:
    job_id = detach(cli_env, job_project / "slow.yaml")
    wait_for(cli_env, lambda j: j.id == job_id and j.progress.units_done >= 1)

    paused = seisproc(cli_env, "pause", job_id)
    assert f"job {job_id} PAUSED" in paused.stdout, paused.stdout + paused.stderr
    paused_job = wait_for(cli_env, lambda j: j.id == job_id)
    assert re.fullmatch(rf"paused by user from {re.escape(socket.gethostname())}:\d+",
                        paused_job.message), paused_job.message
    frozen = units_once_settled(cli_env, job_id)  # the units in flight land, no more start
    time.sleep(1.5)
    assert wait_for(cli_env, lambda j: j.id == job_id).progress.units_done == frozen

    assert f"job {job_id} RUNNING" in seisproc(cli_env, "resume", job_id).stdout
    assert wait_for(cli_env, lambda j: j.id == job_id and j.state.is_terminal()).state is (
        JobState.COMPLETED)
    assert (job_project / "out.sgy").exists()


def test_cancel_from_a_second_terminal(job_project: Path, cli_env: dict) -> None:
    job_id = detach(cli_env, job_project / "slow.yaml")
    wait_for(cli_env, lambda j: j.id == job_id and j.progress.units_done >= 1)
    cancelled = seisproc(cli_env, "cancel", job_id)
    assert f"job {job_id} CANCELLED" in cancelled.stdout, cancelled.stdout + cancelled.stderr
    assert wait_for(cli_env, lambda j: j.id == job_id).message.startswith(
        "cancelled by user from ")
    assert not (job_project / "out.sgy").exists()
    assert list(job_project.glob(".*partial*")) == []


def test_jobs_json_lists_id_name_state_progress_output(small_survey: Path, tmp_path: Path,
                                                       cli_env: dict) -> None:
    job_project = project_on(small_survey, tmp_path)  # a listing: the job's size is moot
    done = seisproc(cli_env, "run", str(job_project / "out.yaml"))
    assert done.returncode == 0, done.stderr
    (listed,) = json.loads(seisproc(cli_env, "jobs", "--json").stdout)
    assert listed["name"] == "decon-bandpass-agc" and listed["state"] == "COMPLETED"
    assert listed["progress"] == 1.0 and listed["output"] == str(job_project / "out.sgy")
    table = seisproc(cli_env, "jobs").stdout
    assert listed["id"] in table and "COMPLETED" in table
