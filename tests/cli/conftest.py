"""A Ray head started once for the CLI tests, which run ``seisproc`` as real processes.

Each ``seisproc`` process joins this cluster (in ~0.05 s) instead of starting its own Ray
(4-11 s), the way a user on a shared workstation or cluster would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from job_helpers import job_project, job_survey  # noqa: F401  (fixtures of the job tests)

RAY = str(Path(sys.executable).parent / "ray")


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A head node in its own process group and temp folder: stopping it touches no other
    Ray on the machine (``ray stop`` would stop them all)."""
    temp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    port = str(_free_port())
    head = subprocess.Popen(
        [RAY, "start", "--head", "--block", "--num-cpus", "2", "--port", port,
         "--include-dashboard", "false", "--disable-usage-stats", f"--temp-dir={temp}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        _wait_until_up(address, env, head)
        yield address
    finally:
        _disconnect_this_process()
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _disconnect_this_process() -> None:
    """In-process CLI runs connected pytest itself to the head: leave before it stops,
    or Ray ends this process when its GCS disappears."""
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _wait_until_up(address: str, env: dict[str, str], head: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if head.poll() is not None:
            raise RuntimeError("ray start --head exited at once")
        probe = subprocess.run([RAY, "status", f"--address={address}"], env=env,
                               capture_output=True, check=False)
        if probe.returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the Ray head at {address} did not come up in 60 s")


@pytest.fixture
def cli_env(ray_head: str, tmp_path: Path) -> dict[str, str]:
    """Environment of a user whose seisproc home is fresh and whose Ray is ``ray_head``."""
    home = tmp_path / "home"
    home.mkdir()
    return {**os.environ, "SEISPROC_HOME": str(home), "SEISPROC_RAY_ADDRESS": ray_head,
            "RAY_AUTH_MODE": "disabled", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(autouse=True)
def _use_the_test_head(ray_head: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process ``seisproc run`` (CliRunner) joins the test head too."""
    monkeypatch.setenv("SEISPROC_RAY_ADDRESS", ray_head)
