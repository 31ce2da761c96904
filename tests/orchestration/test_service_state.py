"""The local Ray service's bookkeeping, without starting a head: its state file, its
liveness checks, its settings and the address a command resolves to. Starting, reusing,
killing and stopping real heads is in ``tests/cli/test_service.py``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seisproc.errors import SeisprocError
from seisproc.orchestration import service
from seisproc.orchestration.executor import warm_name
from seisproc.orchestration.head import (
    SOCKET_PATH_LIMIT,
    SOCKET_TAIL,
    HeadState,
    free_ports,
    group_alive,
    port_open,
)
from seisproc.orchestration.idle_watch import poll_interval_s
from seisproc.orchestration.workers import CpuWorkerActor
from seisproc.paths import service_temp_dir


def dead_pid() -> int:
    """A pid that ran and is gone."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def a_state(pgid: int, temp_dir: str = "/tmp/seisproc-test", port: int = 1) -> HeadState:
    return HeadState(f"127.0.0.1:{port}", pgid, temp_dir, time.time(), 600.0, "secret",
                     "0.1.0")


def test_the_state_round_trips_and_is_private(seisproc_home: Path) -> None:
    state = a_state(1234)
    service._write_state(state)
    path = seisproc_home / service.STATE_FILE
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert service.read_state() == state
    assert "secret" not in repr(state)  # the token stays out of logs and tracebacks


def test_a_damaged_state_file_reads_as_none(seisproc_home: Path) -> None:
    (seisproc_home / service.STATE_FILE).write_text("{not json")
    assert service.read_state() is None
    (seisproc_home / service.STATE_FILE).write_text(json.dumps({"address": "x"}))
    assert service.read_state() is None


def test_a_dead_recorded_head_is_not_running(seisproc_home: Path) -> None:
    service._write_state(a_state(dead_pid()))
    started = time.monotonic()
    assert service.service_status().running is False
    assert time.monotonic() - started < 1.0


def test_a_reused_pid_is_not_taken_for_the_head() -> None:
    # this process's group is alive, but its leader is not our watchdog
    state = a_state(os.getpgrp(), temp_dir="/tmp/seisproc-not-this-one")
    assert group_alive(state) is False


def test_a_closed_port_is_seen_at_once() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: refused
        started = time.monotonic()
        assert port_open(a_state(1, port=port)) is False
    assert time.monotonic() - started < 1.0


def test_the_temp_dir_is_short_private_to_the_user_and_per_home(tmp_path: Path) -> None:
    one, other = service_temp_dir(tmp_path / "a"), service_temp_dir(tmp_path / "b")
    assert one != other and one == service_temp_dir(tmp_path / "a")
    assert one.name.startswith(f"seisproc-{os.getuid()}-")
    assert len(str(one)) + SOCKET_TAIL < SOCKET_PATH_LIMIT
    assert not str(one).startswith("/tmp/ray")


@pytest.mark.parametrize("raw", ["0", "-5", "soon", "inf"])
def test_a_bad_idle_time_is_refused_in_one_line(raw: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(service.IDLE_ENV, raw)
    with pytest.raises(SeisprocError, match=service.IDLE_ENV):
        service.idle_seconds()


def test_the_idle_time_defaults_to_ten_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(service.IDLE_ENV, raising=False)
    assert service.idle_seconds() == 600.0
    monkeypatch.setenv(service.IDLE_ENV, "90")
    assert service.idle_seconds() == 90.0
    assert poll_interval_s(600) == 5.0 and poll_interval_s(2) == 0.5


def test_an_address_given_or_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEISPROC_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert service.resolve_address("10.0.0.1:6379") == "10.0.0.1:6379"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.2:6379")
    assert service.resolve_address(None) == "10.0.0.2:6379"
    monkeypatch.setenv("SEISPROC_RAY_ADDRESS", "10.0.0.3:6379")
    assert service.resolve_address(None) == "10.0.0.3:6379"


def test_a_process_already_on_ray_stays_there(ray_cluster: None,
                                              monkeypatch: pytest.MonkeyPatch,
                                              seisproc_home: Path) -> None:
    monkeypatch.delenv("SEISPROC_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert service.resolve_address(None) is None
    assert service.on_service() is False
    assert not (seisproc_home / service.STATE_FILE).exists()  # nothing was started


def test_warm_actor_names_carry_the_class_the_version_and_the_code() -> None:
    from seisproc._version import __version__

    assert re.fullmatch(rf"seisproc-CpuWorkerActor-{re.escape(__version__)}-[0-9a-f]{{8}}-1",
                        warm_name(CpuWorkerActor, 1))


def test_stop_without_a_service_says_so(seisproc_home: Path) -> None:
    assert service.stop_service() is False


def test_stop_never_kills_a_group_that_is_not_the_services(seisproc_home: Path) -> None:
    # The recorded pid was reused: here by this very test process's group.
    service._write_state(a_state(os.getpgrp(), temp_dir="/tmp/seisproc-not-this-one"))
    assert service.stop_service() is False  # and this process is still here to check
    assert service.read_state() is None


def test_the_heads_ports_are_picked_together_and_never_twice() -> None:
    ports = free_ports(50)
    assert len(set(ports)) == 50  # one at a time, the kernel may hand one out twice
