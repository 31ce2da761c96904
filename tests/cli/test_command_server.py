"""The warm command server, as a user meets it: real ``seisproc`` processes on seisproc's
local Ray service, no address.

One service and one command server (one seisproc home) are shared by the module's tests
in order, as a user's commands share them; the head is killed at the end, and the server
ends with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from job_helpers import SEISPROC, start

from seisproc.cli.warm import protocol
from seisproc.history import JobHistoryStorage
from seisproc.io import SurveyGeometry, synthesize_survey

FLOW = """\
name: {name}
input: {input}
output: {output}
gather_by: ffid
steps:
{steps}
"""
QUICK = "  - agc: {window_ms: 500}"
SLOW = "\n".join(["  - spiking_decon: {operator_ms: 400}"] * 6 + ["  - agc: {window_ms: 500}"])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("warm-home")
    yield folder
    state_path = folder / "ray-service.json"
    if state_path.exists():
        state = json.loads(state_path.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state["pgid"], signal.SIGKILL)
        shutil.rmtree(state["temp_dir"], ignore_errors=True)


@pytest.fixture(scope="module")
def env(home: Path) -> dict[str, str]:
    values = {**os.environ, "SEISPROC_HOME": str(home), "PYTHONUNBUFFERED": "1",
              "SEISPROC_SERVICE_IDLE_S": "300"}
    for name in ("SEISPROC_RAY_ADDRESS", "RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN",
                 protocol.ENABLE_ENV):
        values.pop(name, None)
    return values


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, job_survey: Path) -> Path:
    """A 2-gather flow, and a slow one over the CLI tests' job survey (made once a session)."""
    folder = tmp_path_factory.mktemp("warm-project")
    small = synthesize_survey(folder / "small.sgy",
                              SurveyGeometry(shots=2, channels=24, samples=1001, dt_ms=4.0))
    for name, survey, steps in (("quick", small, QUICK), ("slow", job_survey, SLOW)):
        (folder / f"{name}.yaml").write_text(FLOW.format(
            name=name, input=survey, output=folder / f"{name}-out.sgy", steps=steps))
    return folder


def seisproc(env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 180,
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SEISPROC, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=cwd)


def server_folder(home: Path) -> Path:
    return protocol.server_dir(home)


def server_log(home: Path) -> str:
    path = server_folder(home) / protocol.LOG
    return path.read_text() if path.exists() else ""


def served_pids(home: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"runs \['\w+'\] as pid (\d+)", server_log(home))]


def wait_until(check: object, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def wait_for_server(home: Path) -> None:
    try:
        wait_until(lambda: server_ready(home), what="the command server is up")
    except AssertionError as missing:
        raise AssertionError(f"{missing}; its log: {server_log(home)!r}") from None


def server_ready(home: Path) -> bool:
    return "ready in" in server_log(home) and (server_folder(home) / protocol.SOCKET).exists()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    return True


def history(env: dict[str, str]) -> JobHistoryStorage:
    return JobHistoryStorage(f"sqlite:///{env['SEISPROC_HOME']}/job_history.db")


def test_after_a_first_run_the_next_runs_are_served_warm_with_the_callers_terminal(
        env: dict[str, str], home: Path, project: Path) -> None:
    first = seisproc(env, "run", "--overwrite", str(project / "quick.yaml"))
    assert first.returncode == 0, first.stdout + first.stderr
    wait_for_server(home)
    assert served_pids(home) == []

    second = seisproc(env, "run", "--overwrite", "quick.yaml", cwd=project)  # a relative path
    assert second.returncode == 0, second.stdout + second.stderr
    assert "COMPLETED" in second.stdout + second.stderr
    assert "job " in second.stderr and "submitted" in second.stderr  # the caller's stderr
    assert len(served_pids(home)) == 1, server_log(home)
    (pid,) = served_pids(home)
    assert not alive(pid)  # ended, and reaped by the server
    with contextlib.closing(history(env)) as jobs:
        assert jobs.get_recent(1)[0].state.value == "COMPLETED"
    folder = server_folder(home)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / protocol.SOCKET).stat().st_mode & 0o777) == "0o600"


def test_a_served_command_that_fails_exits_as_it_would_with_its_message(
        env: dict[str, str], home: Path, project: Path) -> None:
    wait_for_server(home)
    bad = project / "bad.yaml"
    bad.write_text(FLOW.format(name="bad", input=project / "missing.sgy",
                               output=project / "bad-out.sgy", steps=QUICK))
    before = len(served_pids(home))
    result = seisproc(env, "run", str(bad))
    assert len(served_pids(home)) == before + 1
    assert result.returncode == 1
    assert "\nerror: job " in result.stderr and "missing.sgy: no such file" in result.stderr


@contextlib.contextmanager
def served_slow_run(env: dict[str, str], home: Path, project: Path,
                    ) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A ``seisproc run`` of the slow flow, served: the caller and its command's pid,
    once the job runs; the caller is killed at the end if it still runs."""
    wait_for_server(home)
    before = len(served_pids(home))
    caller = start(env, "run", "--overwrite", str(project / "slow.yaml"))
    try:
        wait_until(lambda: len(served_pids(home)) > before, what="the server forked the run")
        wait_until(lambda: _state(env) == "RUNNING", timeout=120, what="the job runs")
        yield caller, served_pids(home)[-1]
    finally:
        if caller.poll() is None:
            caller.kill()
        if caller.stdout is not None and not caller.stdout.closed:
            caller.communicate()


def test_sigkill_of_the_caller_kills_its_command_and_the_job_is_recovered_and_resumable(
        env: dict[str, str], home: Path, project: Path) -> None:
    with served_slow_run(env, home, project) as (caller, command):
        wait_until(lambda: _units_done(env) >= 1, timeout=120, what="a unit was done")
        caller.kill()
        caller.wait(timeout=10)
        wait_until(lambda: not alive(command), timeout=10, what="the command died with its caller")
    before = len(served_pids(home))
    listed = seisproc(env, "jobs", "--json")
    assert len(served_pids(home)) == before + 1  # served too, printing to the caller's stdout
    (job,) = [j for j in json.loads(listed.stdout) if j["name"] == "slow"]
    assert job["state"] == "INTERRUPTED", job
    resumed = seisproc(env, "resume", job["id"], timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    with contextlib.closing(history(env)) as jobs:
        assert jobs.get_job(job["id"]).state.value == "COMPLETED"


def test_sigterm_to_the_caller_cancels_the_served_job_as_ctrl_c_does(
        env: dict[str, str], home: Path, project: Path) -> None:
    with served_slow_run(env, home, project) as (caller, _command):
        caller.send_signal(signal.SIGTERM)
        output, _ = caller.communicate(timeout=60)
    assert caller.returncode == 1, output
    assert "was cancelled" in output
    assert _state(env) == "CANCELLED"
    assert not list(project.glob(".slow-out.sgy*"))


def test_ctrl_z_stops_the_served_command_with_its_caller_and_fg_continues_both(
        env: dict[str, str], home: Path, project: Path) -> None:
    with served_slow_run(env, home, project) as (caller, command):
        caller.send_signal(signal.SIGTSTP)
        wait_until(lambda: _process_state(command) == "T" and _process_state(caller.pid) == "T",
                   timeout=10, what="both stopped")
        caller.send_signal(signal.SIGCONT)
        wait_until(lambda: _process_state(command) not in ("T", "") and
                   _process_state(caller.pid) not in ("T", ""), timeout=10,
                   what="both continued")
        caller.send_signal(signal.SIGTERM)
        output, _ = caller.communicate(timeout=60)
    assert "was cancelled" in output


def _process_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return ""


def test_a_caller_with_another_import_time_environment_runs_the_command_itself(
        env: dict[str, str], home: Path, project: Path) -> None:
    wait_for_server(home)
    before = len(served_pids(home))
    result = seisproc({**env, "OMP_NUM_THREADS": "1"}, "run", "--overwrite",
                      str(project / "quick.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(served_pids(home)) == before
    assert "another import-time environment (OMP_NUM_THREADS differ)" in server_log(home)


def test_the_callers_umask_applies_to_what_the_served_command_writes(
        env: dict[str, str], home: Path, project: Path) -> None:
    wait_for_server(home)
    before = len(served_pids(home))
    result = subprocess.run([*SEISPROC, "run", "--overwrite", str(project / "quick.yaml")],
                            env=env, capture_output=True, text=True, timeout=180, check=False,
                            preexec_fn=lambda: os.umask(0o077))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(served_pids(home)) == before + 1, server_log(home)
    assert oct((project / "quick-out.sgy").stat().st_mode & 0o777) == "0o600"


def test_a_caller_with_other_resource_limits_runs_the_command_itself(
        env: dict[str, str], home: Path, project: Path) -> None:
    import resource

    wait_for_server(home)
    before = len(served_pids(home))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    result = subprocess.run([*SEISPROC, "run", "--overwrite", str(project / "quick.yaml")],
                            env=env, capture_output=True, text=True, timeout=180, check=False,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                  (soft - 1, hard)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(served_pids(home)) == before
    assert "other resource limits (ulimit)" in server_log(home)


def test_another_users_socket_folder_is_never_used(tmp_path: Path) -> None:
    from seisproc.cli.warm.client import _ours

    folder = tmp_path / "commands"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    assert not _ours(folder)  # readable by others: someone else could have made it
    os.chmod(folder, 0o700)
    assert _ours(folder)


def test_the_server_ends_when_the_service_is_stopped(env: dict[str, str], home: Path) -> None:
    wait_for_server(home)
    pid = json.loads((server_folder(home) / protocol.INFO).read_text())["pid"]
    assert alive(pid)
    shown = seisproc(env, "service", "status")
    assert f"command server: pid {pid}" in shown.stdout, shown.stdout + shown.stderr
    assert json.loads(seisproc(env, "service", "status", "--json").stdout)[
        "command_server_pid"] == pid
    stopped = seisproc(env, "service", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not alive(pid)  # stop waits for it
    assert not (server_folder(home) / protocol.SOCKET).exists()
    assert "not running" in seisproc(env, "service", "status").stdout


def test_a_killed_server_is_replaced_after_the_next_run_without_an_error(
        env: dict[str, str], home: Path, project: Path) -> None:
    first = seisproc(env, "run", "--overwrite", str(project / "quick.yaml"))
    assert first.returncode == 0, first.stdout + first.stderr
    wait_for_server(home)
    pid = json.loads((server_folder(home) / protocol.INFO).read_text())["pid"]
    os.kill(pid, signal.SIGKILL)  # its socket stays behind, refusing connections
    wait_until(lambda: not alive(pid), timeout=10, what="the server died")
    second = seisproc(env, "run", "--overwrite", str(project / "quick.yaml"))
    assert second.returncode == 0, second.stdout + second.stderr
    wait_until(lambda: server_ready(home) and json.loads(
        (server_folder(home) / protocol.INFO).read_text())["pid"] != pid,
        what="a new server came up")
    third = seisproc(env, "run", "--overwrite", str(project / "quick.yaml"))
    assert third.returncode == 0, third.stdout + third.stderr
    assert served_pids(home), server_log(home)


def _jobs(env: dict[str, str]) -> list:
    with contextlib.closing(history(env)) as jobs:
        return [j for j in jobs.get_recent(5) if j.name == "slow"]


def _units_done(env: dict[str, str]) -> int:
    found = _jobs(env)
    return found[0].progress.units_done if found else 0


def _state(env: dict[str, str]) -> str:
    found = _jobs(env)
    return found[0].state.value if found else ""


def test_requests_carry_the_terminal_and_answers_are_json_lines() -> None:
    one, other = socket.socketpair()
    with one, other:
        read_end, write_end = os.pipe()
        protocol.send_request(one, {"argv": ["run", "x.yaml"], "env": {"A": "b" * 100_000}},
                              (read_end, write_end, write_end))
        request, fds = protocol.read_request(other)
        assert request["argv"] == ["run", "x.yaml"] and len(request["env"]["A"]) == 100_000
        assert len(fds) == 3
        os.write(fds[1], b"through the passed descriptor")
        assert os.read(read_end, 100) == b"through the passed descriptor"
        for fd in (*fds, read_end, write_end):
            os.close(fd)
        protocol.send_line(other, {"pid": 12})
        protocol.send_line(other, {"status": -9})
        lines = protocol.Lines(one)
        assert lines.next() == {"pid": 12} and lines.next() == {"status": -9}
        other.close()
        assert lines.next() is None


@pytest.mark.parametrize(("args", "env", "hosted"), [
    (["run", "f.yaml"], {}, True),
    (["--debug", "resume", "abc"], {}, True),
    (["run", "f.yaml", "--detach"], {}, False),
    (["run", "f.yaml", "--address", "10.0.0.1:6379"], {}, False),
    (["run", "f.yaml"], {"RAY_ADDRESS": "10.0.0.1:6379"}, False),
    (["run", "--help"], {}, False),
    (["jobs", "--json"], {}, True),
    (["cancel", "abc"], {"RAY_ADDRESS": "10.0.0.1:6379"}, True),
    (["report", "--out", "r.html"], {}, False),
    (["run", "f.yaml"], {protocol.ENABLE_ENV: "0"}, False),
])
def test_job_commands_on_the_local_service_and_history_commands_go_to_the_server(
        args: list[str], env: dict[str, str], hosted: bool) -> None:
    assert protocol.hosted_command(args, env) is hosted


def test_import_time_differences_are_named_never_valued() -> None:
    differing = protocol.env_differences({"RAY_AUTH_TOKEN": "secret", "HOME": "/a"},
                                         {"RAY_AUTH_TOKEN": "other", "HOME": "/b"})
    assert differing == ["RAY_AUTH_TOKEN"]
