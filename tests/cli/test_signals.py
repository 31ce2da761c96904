"""Signals at chosen moments, through real ``seisproc`` processes: every one leaves the
job in a true state and every command able to start.

The first engine was bricked by a run killed while its job was QUEUED (Ray starting):
from then on every command failed with "job ... is QUEUED: it cannot become
INTERRUPTED". SIGTERM and SIGHUP (a closed terminal) now end a run as Ctrl-C does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from job_helpers import FLOW, project_on, seisproc, slower, start, wait_for
from test_bad_address import free_port

from seisproc.jobs.model import JobState
from seisproc.jobs.plan import partial_path_for

S = JobState


@pytest.fixture
def unreachable_env(cli_env: dict) -> dict:
    """A Ray address where nothing answers yet, with a long connect timeout: the run's
    job stays QUEUED while it tries, the window in which the first engine broke."""
    return {**cli_env, "SEISPROC_RAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "SEISPROC_RAY_CONNECT_TIMEOUT_S": "120"}


def queued_run(env: dict, job_project: Path, *options: str) -> tuple[subprocess.Popen, str]:
    proc = start(env, "run", str(job_project / "out.yaml"), *options)
    job = wait_for(env, lambda j: j.state is S.QUEUED, timeout=60)
    return proc, job.id


def jobs_json(env: dict) -> list[dict]:
    listed = seisproc(env, "jobs", "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def test_sigkill_while_queued_leaves_every_command_able_to_start_and_resume_finishes(
        small_survey: Path, tmp_path: Path, cli_env: dict, unreachable_env: dict) -> None:
    job_project = project_on(small_survey, tmp_path)  # killed before a unit ran: any size
    proc, job_id = queued_run(unreachable_env, job_project)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    (job,) = [j for j in jobs_json(cli_env) if j["id"] == job_id]
    assert job["state"] == "INTERRUPTED" and f"seisproc resume {job_id}" in job["message"]
    resumed = seisproc(cli_env, "resume", job_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (job_project / "out.sgy").exists()
    assert [j["state"] for j in jobs_json(cli_env) if j["id"] == job_id] == ["COMPLETED"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_or_sighup_while_queued_cancels_the_job_as_ctrl_c_does(
        job_project: Path, unreachable_env: dict, sig: signal.Signals) -> None:
    proc, job_id = queued_run(unreachable_env, job_project)
    os.kill(proc.pid, sig)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, output
    assert f"job {job_id} was cancelled" in output
    (job,) = [j for j in jobs_json(unreachable_env) if j["id"] == job_id]
    assert job["state"] == "CANCELLED"
    assert not list(job_project.glob(".out.sgy*"))  # no partial output, no claim left


def test_sighup_mid_run_with_pause_leaves_a_job_that_resumes_to_the_end(
        job_project: Path, cli_env: dict) -> None:
    proc = start(cli_env, "run", str(job_project / "slow.yaml"), "--on-interrupt", "pause")
    job = wait_for(cli_env, lambda j: j.progress.units_done >= 2)
    os.kill(proc.pid, signal.SIGHUP)
    proc.communicate(timeout=60)
    (listed,) = [j for j in jobs_json(cli_env) if j["id"] == job.id]
    assert listed["state"] == "PAUSED" and f"seisproc resume {job.id}" in listed["message"]
    assert partial_path_for(job_project / "out.sgy", job.id).exists()
    resumed = seisproc(cli_env, "resume", job.id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert [j["state"] for j in jobs_json(cli_env) if j["id"] == job.id] == ["COMPLETED"]


def test_two_runs_writing_the_same_output_the_second_is_refused_at_once_even_with_overwrite(
        job_project: Path, cli_env: dict) -> None:
    # twice the slow flow's decons: it is killed, not finished, so this costs nothing
    # and it still runs after two more commands on a loaded machine
    (job_project / "slowest.yaml").write_text(slower(FLOW.format(output="out.sgy"), 16))
    first = start(cli_env, "run", str(job_project / "slowest.yaml"))
    try:
        job = wait_for(cli_env, lambda j: j.state is S.RUNNING)
        second = seisproc(cli_env, "run", str(job_project / "out.yaml"), timeout=60)
        assert second.returncode == 1
        assert f"job {job.id}" in second.stderr and "is already writing this output" in (
            second.stderr)
        forced = seisproc(cli_env, "run", str(job_project / "out.yaml"), "--overwrite",
                          timeout=60)  # --overwrite replaces a finished file, never a job's
        assert forced.returncode == 1 and "is already writing this output" in forced.stderr
    finally:
        os.killpg(first.pid, signal.SIGINT)
        first.communicate(timeout=60)
