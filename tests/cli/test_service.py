"""seisproc's local Ray service, as a user meets it: real ``seisproc`` processes, no address.

One service (one seisproc home) is shared by the module's tests in order, as a user's
commands share it; each test that needs a fresh one stops or kills it first. Every head
a test started is ended with ``killpg`` at the end (never ``ray stop``, which would stop
every Ray on the machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from job_helpers import SEISPROC

from seisproc.io import SurveyGeometry, synthesize_survey

RAY = str(Path(sys.executable).parent / "ray")
FLOW = """\
name: two-gathers
input: {input}
output: {output}
gather_by: ffid
steps:
  - agc: {{window_ms: 500}}
"""
STARTING = "starting seisproc's local Ray"
USER_RAY_PORT = 6379
USER_RAY_ADDRESS_FILE = Path("/tmp/ray/ray_current_cluster")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The seisproc home of the module's service; its heads are killed at the end."""
    folder = tmp_path_factory.mktemp("service-home")
    yield folder
    _kill_recorded_head(folder)


@pytest.fixture(scope="module")
def env(home: Path) -> dict[str, str]:
    """A user with no Ray address anywhere in the environment."""
    values = {**os.environ, "SEISPROC_HOME": str(home), "PYTHONUNBUFFERED": "1",
              "SEISPROC_SERVICE_IDLE_S": "300"}
    for name in ("SEISPROC_RAY_ADDRESS", "RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"):
        values.pop(name, None)
    return values


@pytest.fixture(scope="module")
def flow_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-gather, 48-trace flow: the size of the issue's end-to-end figure."""
    folder = tmp_path_factory.mktemp("two-gathers")
    survey = synthesize_survey(folder / "shots.sgy",
                               SurveyGeometry(shots=2, channels=24, samples=1001, dt_ms=4.0))
    path = folder / "flow.yaml"
    path.write_text(FLOW.format(input=survey, output=folder / "out.sgy"))
    return path


def seisproc(env: dict[str, str], *args: str, timeout: float = 180,
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SEISPROC, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def run_flow(env: dict[str, str], flow_file: Path) -> tuple[subprocess.CompletedProcess[str],
                                                             float]:
    started = time.monotonic()
    result = seisproc(env, "run", "--overwrite", str(flow_file))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "COMPLETED" in result.stdout + result.stderr
    return result, elapsed


def status(env: dict[str, str]) -> dict:
    result = seisproc(env, "service", "status", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def recorded(home: Path) -> dict | None:
    path = home / "ray-service.json"
    return json.loads(path.read_text()) if path.exists() else None


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_recorded_head(home: Path) -> None:
    state = recorded(home)
    if state is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(state["pgid"], signal.SIGKILL)
    shutil.rmtree(state["temp_dir"], ignore_errors=True)


def test_two_runs_use_the_same_warm_workers(env: dict[str, str], flow_file: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    seisproc(env, "service", "stop")
    first, cold_s = run_flow(env, flow_file)
    assert STARTING in first.stderr
    before = status(env)
    second, warm_s = run_flow(env, flow_file)
    after = status(env)

    assert STARTING not in second.stderr
    assert before["running"] and after["pid"] == before["pid"]
    assert len(before["workers"]) >= 1
    workers = {(w["actor_id"], w["pid"]) for w in before["workers"] if w["state"] == "ALIVE"}
    assert workers == {(w["actor_id"], w["pid"]) for w in after["workers"]
                       if w["state"] == "ALIVE"}
    assert after["drivers"] == [] and after["idle_left_s"] > 0
    with capsys.disabled():
        print(f"\n  48-trace flow end to end: cold service {cold_s:.1f} s, "
              f"warm {warm_s:.1f} s")


def test_a_killed_service_is_replaced_by_the_next_run(env: dict[str, str], home: Path,
                                                       flow_file: Path) -> None:
    assert seisproc(env, "service", "start").returncode == 0  # one runs (no job needed)
    killed = recorded(home)
    assert killed is not None
    os.killpg(killed["pgid"], signal.SIGKILL)

    result, _ = run_flow(env, flow_file)
    assert STARTING in result.stderr and "error" not in result.stderr.lower()
    now = recorded(home)
    assert now is not None and now["pgid"] != killed["pgid"] and group_alive(now["pgid"])


def test_two_first_starts_at_once_start_one_service(env: dict[str, str], home: Path) -> None:
    seisproc(env, "service", "stop")
    code = ("from seisproc.orchestration.service import ensure_service; "
            "print(ensure_service().pgid)")
    starters = [subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(2)]
    pgids = {starter.communicate(timeout=120)[0].strip() for starter in starters}
    assert len(pgids) == 1 and pgids != {""}
    assert str(recorded(home)["pgid"]) in pgids  # type: ignore[index]


def test_service_start_starts_it_once_and_a_run_then_uses_it(env: dict[str, str], home: Path,
                                                            flow_file: Path) -> None:
    seisproc(env, "service", "stop")
    started = seisproc(env, "service", "start")
    assert started.returncode == 0 and STARTING in started.stderr, started.stderr
    first = recorded(home)
    again = seisproc(env, "service", "start")
    assert again.returncode == 0 and STARTING not in again.stderr
    assert recorded(home)["pgid"] == first["pgid"]
    result, _ = run_flow(env, flow_file)
    assert STARTING not in result.stderr and recorded(home)["pgid"] == first["pgid"]


def test_a_failing_cold_run_still_leaves_one_working_service(env: dict[str, str], home: Path,
                                                             tmp_path: Path,
                                                             flow_file: Path) -> None:
    """A run starts the service in the background as it begins; a run that fails at
    once (a missing flow file) leaves that start to finish, and the next run joins it."""
    seisproc(env, "service", "stop")
    failed = seisproc(env, "run", str(tmp_path / "missing.yaml"))
    assert failed.returncode == 1 and "missing.yaml" in failed.stderr
    result, _ = run_flow(env, flow_file)
    assert "error" not in result.stderr.lower()
    state = recorded(home)
    assert state is not None and group_alive(state["pgid"])


def test_service_stop_ends_it_and_status_says_so(env: dict[str, str], home: Path) -> None:
    state = recorded(home)
    assert state is not None and group_alive(state["pgid"])

    stopped = seisproc(env, "service", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not group_alive(state["pgid"]) and recorded(home) is None
    assert status(env)["running"] is False
    text = seisproc(env, "service", "status")
    assert text.returncode == 0 and "not running" in text.stdout


def test_an_idle_service_stops_itself(tmp_path: Path, env: dict[str, str]) -> None:
    idle_env = {**env, "SEISPROC_HOME": str(tmp_path), "SEISPROC_SERVICE_IDLE_S": "2"}
    code = "from seisproc.orchestration.service import ensure_service; ensure_service()"
    try:
        subprocess.run([sys.executable, "-c", code], env=idle_env, check=True, timeout=120)
        state = recorded(tmp_path)
        assert state is not None
        deadline = time.monotonic() + 30
        while group_alive(state["pgid"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_alive(state["pgid"]) and recorded(tmp_path) is None
        deadline = time.monotonic() + 10
        while Path(state["temp_dir"]).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(state["temp_dir"]).exists()
    finally:
        _kill_recorded_head(tmp_path)


# ------------------------------------------------------------------ a user's own Ray
@pytest.fixture
def users_ray(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``ray start --head`` with Ray's defaults (port 6379, /tmp/ray, token auth), as a Ray
    user runs it; its token lives in a home of its own. Yields that user's environment."""
    if _listening(USER_RAY_PORT) or USER_RAY_ADDRESS_FILE.exists():
        pytest.skip("a Ray already runs (or ran) with the defaults on this machine")
    user_env = {**os.environ, "HOME": str(tmp_path)}
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_ADDRESS", "SEISPROC_RAY_ADDRESS"):
        user_env.pop(name, None)
    head = subprocess.Popen([RAY, "start", "--head", "--block", "--disable-usage-stats"],
                            env=user_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    user_env["USER_RAY_PGID"] = str(head.pid)
    try:
        _wait_for_users_ray(head)
        yield user_env
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        USER_RAY_ADDRESS_FILE.unlink(missing_ok=True)  # ours: it did not exist before


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_users_ray(head: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert head.poll() is None, "ray start --head exited"
        if USER_RAY_ADDRESS_FILE.exists() and _listening(USER_RAY_PORT):
            return
        time.sleep(0.2)
    raise AssertionError("the user's Ray did not come up in 60 s")


SEEN_BY_THE_USERS_RAY = """
import asyncio, json, ray
from ray._raylet import GcsClient
client = GcsClient(address="{address}")
jobs = client.get_all_job_info(timeout=10)
async def actor_table():
    return await client.async_get_all_actor_info(timeout=10)
actors = asyncio.run(actor_table())
print(json.dumps({{"drivers": [j.driver_pid for j in jobs.values()],
                  "actors": [a.name or a.class_name for a in actors.values()]}}))
"""


def seen_by_the_users_ray(user_env: dict[str, str]) -> dict:
    """Drivers and actors the user's cluster ever had, asked of its GCS with the user's
    token and without joining it (a driver would be one more job)."""
    address = USER_RAY_ADDRESS_FILE.read_text().strip()
    result = subprocess.run([sys.executable, "-c", SEEN_BY_THE_USERS_RAY.format(
        address=address)], env=user_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_run_beside_a_users_ray_never_touches_it(users_ray: dict[str, str],
                                                 env: dict[str, str], home: Path,
                                                 flow_file: Path) -> None:
    seisproc(env, "service", "stop")  # the run must start its own head beside the user's
    result, _ = run_flow(env, flow_file)
    assert STARTING in result.stderr
    ours = recorded(home)
    assert ours is not None and ours["address"] != f"127.0.0.1:{USER_RAY_PORT}"
    assert seen_by_the_users_ray(users_ray) == {"drivers": [], "actors": []}

    # The user's Ray dies without cleaning up: its /tmp/ray files stay behind.
    os.killpg(int(users_ray["USER_RAY_PGID"]), signal.SIGKILL)
    assert USER_RAY_ADDRESS_FILE.exists()
    seisproc(env, "service", "stop")
    result, _ = run_flow(env, flow_file)  # used to hang > 10 min in ray.init
    assert STARTING in result.stderr
    seisproc(env, "service", "stop")
