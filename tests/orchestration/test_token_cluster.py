"""The README's cluster steps as typed, on Ray's token authentication: a real cluster.

``ray get-auth-token --generate``, ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` on every
node, ``ray start --head``, ``ray start --address=HEAD:PORT`` on a second node, then
``seisproc run flow.yaml --address HEAD:PORT`` as a user's shell runs it. Each ``ray
start`` is a process of its own session with its own temp folder and free ports, so the
cluster touches no other Ray on the machine; it is ended by killing those process
groups (never ``ray stop``, which stops every Ray here). ``HOME`` is a temp folder, so
the token file lands there. The cluster run's trace bytes are checked against the flow
applied in this process (``reference_outputs``), not against a second ``seisproc run
--address local``, whose fresh local Ray cost 8-20 s. About 13 s for the two ``ray
start`` on 2 cores under load, 8 s for the cluster run, 3-7 s per refusal.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import ray

from reference_outputs import reference_output, same_data
from seisproc.history import JobHistoryStorage
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.model import JobState
from seisproc.orchestration import cluster
from seisproc.orchestration.cluster import ClusterAuthRefused, ClusterUnreachable, connect
from seisproc.orchestration.ray_auth import TOKEN_NEEDED
from seisproc.processing.flow import load_flow

RAY = str(Path(sys.executable).parent / "ray")
SEISPROC = [sys.executable, "-m", "seisproc"]
FLOW = """\
name: bandpass-agc
input: shots.sgy
output: out.sgy
gather_by: ffid
steps:
  - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
  - agc: {window_ms: 500}
"""
GEOMETRY = SurveyGeometry(shots=16, channels=24, samples=501, dt_ms=4.0)
"""Four units of four gathers: both one-CPU nodes get some."""
NODE_OPTIONS = ["--num-cpus=1", f"--object-store-memory={100 * 2**20}",
                "--disable-usage-stats"]
START_TIMEOUT_S = 60
AUTH_REFUSED = "requires a Ray auth token: "


# ------------------------------------------------ which token settings a join uses
@pytest.fixture
def joins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """``connect`` with Ray's init recorded, not run, and no token settings of the
    user's; yields the options each ``ray.init`` would have had."""
    inits: list[dict[str, object]] = []
    monkeypatch.setattr(cluster, "_init_on_a_lasting_thread",
                        lambda deadline, target, **options: inits.append(options))
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(cluster, "_started_here", cluster._started_here)
    monkeypatch.setattr(cluster, "_instance_here", cluster._instance_here)
    for name in ("RAY_ADDRESS", "SEISPROC_RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield inits


@pytest.fixture
def listening() -> Iterator[str]:
    """An address whose port takes TCP connections (all ``connect`` checks first)."""
    with socket.create_server(("", 0)) as server:
        yield f"127.0.0.1:{server.getsockname()[1]}"


def test_joining_a_cluster_leaves_rays_token_settings_to_the_user(
        joins: list[dict[str, object]], listening: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "token_refusal", lambda host, port, wait_s: None)
    connect(listening)
    assert "RAY_AUTH_MODE" not in os.environ  # Ray's default, not "disabled" forced on it
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    connect(listening)
    assert os.environ["RAY_AUTH_MODE"] == "token" and len(joins) == 2


@pytest.mark.parametrize("address", [None, "local"])
def test_a_new_local_ray_keeps_auth_disabled_unless_the_user_says_otherwise(
        joins: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch,
        address: str | None) -> None:
    connect(address)  # Ray would otherwise write ~/.ray/auth_token and use it
    assert os.environ["RAY_AUTH_MODE"] == "disabled"
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    connect(address)
    assert os.environ["RAY_AUTH_MODE"] == "token" and len(joins) == 2


def test_a_refusal_is_one_line_naming_the_address_before_ray_is_asked(
        joins: list[dict[str, object]], listening: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "token_refusal", lambda host, port, wait_s: TOKEN_NEEDED)
    with pytest.raises(ClusterAuthRefused) as caught:
        connect(listening)
    message = str(caught.value)
    assert message == f"the cluster at {listening} requires a Ray auth token: {TOKEN_NEEDED}"
    assert "\n" not in message and isinstance(caught.value, ClusterUnreachable)
    assert str(pickle.loads(pickle.dumps(caught.value))) == message
    assert joins == []  # ray.init would have retried for 20 s


# ------------------------------------------------------------- a real token cluster
@dataclass(frozen=True)
class TokenCluster:
    address: str
    """``127.0.0.1:<port>``, the head's GCS."""
    token: str
    user_env: dict[str, str]
    """A shell with the README's exports: ``RAY_AUTH_MODE=token``, ``RAY_AUTH_TOKEN``."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


def plain_env(home: Path) -> dict[str, str]:
    """This environment without any Ray address or token setting, ``HOME`` at ``home``."""
    env = {**os.environ, "HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0",
           "PYTHONUNBUFFERED": "1"}
    for name in ("RAY_ADDRESS", "SEISPROC_RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN",
                 "RAY_AUTH_TOKEN_PATH"):
        env.pop(name, None)
    return env


def ray_start(args: list[str], env: dict[str, str], log: Path, groups: list[int]) -> None:
    """``ray start ARGS`` in a session of its own, recorded in ``groups`` before anything
    can fail; returns once it says the node runs (``ray start`` exits 0 then)."""
    with open(log, "wb") as out:
        node = subprocess.Popen([RAY, "start", *args], env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    groups.append(node.pid)  # Ray's processes stay in this group after `ray start` exits
    try:
        code = node.wait(timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        code = None
    assert code == 0, f"ray start {args[0]} gave {code}:\n{log.read_text()[-3000:]}"


def short_temp(factory: pytest.TempPathFactory, name: str) -> Path:
    """A temp folder short enough for Ray's socket paths below it (107 bytes at most)."""
    folder = factory.mktemp(name)
    if len(str(folder)) > 42:
        pytest.skip(f"pytest's temp folder {folder} is too long for Ray's socket paths")
    return folder


@pytest.fixture(scope="module")
def token_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenCluster]:
    """A head and a second node, each with one CPU, started as the README says."""
    home = tmp_path_factory.mktemp("home")
    env = plain_env(home)
    logs = tmp_path_factory.mktemp("ray-logs")
    got = subprocess.run([RAY, "get-auth-token", "--generate"], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    token = got.stdout  # step 1: export RAY_AUTH_TOKEN=$(ray get-auth-token --generate)
    head_env = {**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    # step 2, on a node whose home is shared: export RAY_AUTH_TOKEN=$(cat ~/.ray/auth_token)
    node_env = {**env, "RAY_AUTH_MODE": "token",
                "RAY_AUTH_TOKEN": (home / ".ray" / "auth_token").read_text().rstrip("\n")}
    assert token and node_env["RAY_AUTH_TOKEN"] == token
    port = free_port()
    address = f"127.0.0.1:{port}"
    groups: list[int] = []
    try:
        ray_start(["--head", f"--port={port}", f"--temp-dir={short_temp(tmp_path_factory, 'rh')}",
                   "--include-dashboard=false", f"--dashboard-port={free_port()}",
                   *_head_ports(), *_agent_ports(), *NODE_OPTIONS],
                  head_env, logs / "head.log", groups)
        ray_start([f"--address={address}",
                   f"--temp-dir={short_temp(tmp_path_factory, 'rw')}", *_agent_ports(),
                   *NODE_OPTIONS], node_env, logs / "node.log", groups)
        _wait_for_nodes(address, node_env, 2)
        yield TokenCluster(address, token, node_env)
    finally:
        for group in groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


def _head_ports() -> list[str]:
    """A free port for the Ray client server, when Ray's client is installed (without it
    Ray starts none, and refuses the option)."""
    from ray._private.utils import get_ray_client_dependency_error

    return [] if get_ray_client_dependency_error() else [f"--ray-client-server-port={free_port()}"]


def _agent_ports() -> list[str]:
    """Free ports for what Ray would otherwise bind at a fixed default (52365, ...)."""
    return [f"--dashboard-agent-listen-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}"]


def _wait_for_nodes(address: str, env: dict[str, str], count: int) -> None:
    """Until the head's GCS lists ``count`` live nodes (asked as a token holder)."""
    ask = ("import sys; from ray._raylet import GcsClient; "
           f"nodes = GcsClient(address={address!r}).get_all_node_info(timeout=10); "
           "print(sum(n.state == 0 for n in nodes.values()))")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        alive = subprocess.run([sys.executable, "-c", ask], env=env, capture_output=True,
                               text=True, timeout=60, check=False).stdout.strip()
        if alive == str(count):
            return
        time.sleep(0.5)
    raise AssertionError(f"the cluster at {address} never had {count} live nodes")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    synthesize_survey(folder / "shots.sgy", GEOMETRY)
    (folder / "flow.yaml").write_text(FLOW)
    return folder


def seisproc(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SEISPROC, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=180, check=False)


@pytest.mark.slow
def test_a_run_on_a_two_node_token_cluster_gives_the_bytes_of_the_flow_applied_here(
        token_cluster: TokenCluster, project: Path, tmp_path: Path) -> None:
    user = {**token_cluster.user_env, "SEISPROC_HOME": str(tmp_path / "seisproc")}
    began = time.monotonic()
    on_cluster = seisproc(user, project, "run", "flow.yaml", "--address", token_cluster.address)
    cluster_s = time.monotonic() - began
    assert on_cluster.returncode == 0, on_cluster.stdout + on_cluster.stderr
    shutil.move(project / "out.sgy", tmp_path / "cluster.sgy")

    history = JobHistoryStorage(f"sqlite:///{tmp_path / 'seisproc'}/job_history.db")
    try:
        (job,) = history.list_jobs()
    finally:
        history.close()
    assert job.state is JobState.COMPLETED and len(set(job.nodes)) == 2  # both nodes ran units

    flow = load_flow(project / "flow.yaml")
    here = reference_output(flow.model_copy(update={"output": tmp_path / "here.sgy"}))
    assert same_data(tmp_path / "cluster.sgy", here)
    assert token_cluster.token not in on_cluster.stdout + on_cluster.stderr
    print(f"two-node token cluster run {cluster_s:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize(("settings", "reason"), [
    ({}, "set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (the head's, which 'ray get-auth-token' "
         "prints there) here, as on its nodes"),
    ({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "not-the-clusters"},
     "it refused the token set here (RAY_AUTH_TOKEN, else RAY_AUTH_TOKEN_PATH, else "
     "~/.ray/auth_token): set RAY_AUTH_TOKEN to the head's"),
    ({"RAY_AUTH_MODE": "token"}, "RAY_AUTH_MODE is token but no token is set here"),
    ({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": "/nonexistent/auth_token"},
     "RAY_AUTH_TOKEN_PATH names no readable token (/nonexistent/auth_token)"),
], ids=["no-token", "wrong-token", "token-mode-without-token", "unreadable-token-file"])
def test_a_driver_without_the_clusters_token_is_told_so_in_one_line_within_seconds(
        token_cluster: TokenCluster, project: Path, tmp_path: Path,
        settings: dict[str, str], reason: str) -> None:
    user = {**plain_env(tmp_path), "SEISPROC_HOME": str(tmp_path / "seisproc"), **settings}
    (tmp_path / "flow.yaml").write_text(FLOW.replace("shots.sgy", str(project / "shots.sgy")))
    began = time.monotonic()
    refused = seisproc(user, tmp_path, "run", "flow.yaml", "--address", token_cluster.address)
    elapsed = time.monotonic() - began
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert elapsed < 10  # Ray alone retries for 20 s, then blames the connection
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert f"the cluster at {token_cluster.address} {AUTH_REFUSED}{reason}" in lines[-1]
    assert "Traceback" not in refused.stderr and "InvalidAuthToken" not in refused.stderr
    assert "Failed to" not in refused.stderr  # none of Ray's own retry warnings
    assert token_cluster.token not in refused.stdout + refused.stderr
    assert not (tmp_path / "out.sgy").exists()
