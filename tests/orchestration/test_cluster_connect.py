"""Joining a cluster is bounded: a wrong address gives a clear error in seconds, not a hang.

Ray 2.60 itself retries an address where no cluster answers for about 14 minutes. The
in-process tests stand Ray's ``ray.init`` in with a fake (this pytest process may already
run a local Ray, which ``connect`` would reuse); the last one runs the real Ray in a
fresh process against a port that accepts connections and never answers.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from seisproc.errors import SeisprocError
from seisproc.orchestration import cluster
from seisproc.orchestration.cluster import (
    CONNECT_TIMEOUT_ENV,
    ClusterUnreachable,
    connect,
    connect_timeout_s,
)

SILENT_CLUSTER = textwrap.dedent("""
    import socket, sys, time
    import ray
    from seisproc.orchestration.cluster import ClusterUnreachable, connect

    silent = socket.create_server(("", 0))  # accepts connections, never answers
    address = f"127.0.0.1:{silent.getsockname()[1]}"
    for attempt in range(2):
        began = time.monotonic()
        try:
            connect(address)
        except ClusterUnreachable as exc:
            print(f"{time.monotonic() - began:.2f}|{ray.is_initialized()}|{exc}", flush=True)
        else:
            sys.exit("connected to a port where no Ray listens")
""")


class FakeRay:
    """``ray.init`` / ``ray.shutdown`` / ``ray.is_initialized`` of a cluster that answers
    when the test says so."""

    def __init__(self) -> None:
        self.answer = threading.Event()
        self.inits: list[dict[str, Any]] = []
        self.shutdowns = 0
        self.initialized = False

    def init(self, **options: Any) -> None:
        self.inits.append(options)
        assert self.answer.wait(10), "the test never let the fake cluster answer"
        self.initialized = True

    def shutdown(self) -> None:
        self.shutdowns += 1
        self.initialized = False


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRay]:
    fake = FakeRay()
    monkeypatch.setattr(ray, "init", fake.init)
    monkeypatch.setattr(ray, "shutdown", fake.shutdown)
    monkeypatch.setattr(ray, "is_initialized", lambda: fake.initialized)
    monkeypatch.setattr(cluster, "_started_here", cluster._started_here)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("SEISPROC_RAY_ADDRESS", raising=False)
    yield fake
    fake.answer.set()  # let an abandoned attempt end before the real Ray is restored
    if cluster._stalled is not None:
        assert cluster._stalled.ended(10)
    cluster._stalled = None


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel completes them) and never speaks."""
    with socket.create_server(("", 0)) as silent:
        yield int(silent.getsockname()[1])


def free_port() -> int:
    """A port nothing listens on, on any of this machine's addresses."""
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


def test_nothing_listening_at_the_address_fails_at_once_naming_it(fake_ray: FakeRay) -> None:
    address = f"127.0.0.1:{free_port()}"
    began = time.monotonic()
    with pytest.raises(ClusterUnreachable) as caught:
        connect(address)
    assert time.monotonic() - began < 2
    message = str(caught.value)
    assert f"cannot reach a Ray cluster at {address} (nothing listens on " in message
    assert "'ray start --head'" in message and "leave out --address" in message
    assert "\n" not in message
    assert isinstance(caught.value, SeisprocError) and caught.value.address == address
    assert str(pickle.loads(pickle.dumps(caught.value))) == message
    assert fake_ray.inits == []  # Ray was never asked: it would have retried for minutes


def test_the_address_can_come_from_the_environment(fake_ray: FakeRay,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"localhost:{free_port()}"
    monkeypatch.setenv("SEISPROC_RAY_ADDRESS", address)
    with pytest.raises(ClusterUnreachable, match=f"at {address} "):
        connect()
    monkeypatch.delenv("SEISPROC_RAY_ADDRESS")
    monkeypatch.setenv("RAY_ADDRESS", f"ray://127.0.0.1:{free_port()}")
    with pytest.raises(ClusterUnreachable, match="nothing listens on 127.0.0.1:"):
        connect()
    assert fake_ray.inits == []


@pytest.mark.parametrize("address", ["headnode", "headnode:port", "ray://", "ray://h:x"])
def test_something_that_is_not_an_address_is_refused_as_such(fake_ray: FakeRay,
                                                             address: str) -> None:
    with pytest.raises(ClusterUnreachable, match="not an address: give 'auto', 'host:port'"):
        connect(address)
    assert fake_ray.inits == []


def test_an_unknown_host_is_named(fake_ray: FakeRay) -> None:
    with pytest.raises(ClusterUnreachable, match=r"\(unknown host no-such-host\.invalid\)"):
        connect("no-such-host.invalid:6379")


def test_a_port_that_never_answers_fails_after_the_timeout_and_is_undone_later(
        fake_ray: FakeRay, silent_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONNECT_TIMEOUT_ENV, "0.5")
    address = f"127.0.0.1:{silent_port}"
    began = time.monotonic()
    with pytest.raises(ClusterUnreachable, match="Ray did not join it within 0.5 s"):
        connect(address)
    assert 0.4 < time.monotonic() - began < 3
    assert len(fake_ray.inits) == 1 and fake_ray.inits[0]["address"] == address

    # Ray cannot run two ray.init at once: the next join waits for the first, then gives up
    with pytest.raises(ClusterUnreachable, match="an earlier attempt to join it is still"):
        connect(address)
    assert len(fake_ray.inits) == 1

    fake_ray.answer.set()  # the cluster answers, late: nobody wants that connection now
    assert cluster._stalled is not None and cluster._stalled.ended(5)
    assert fake_ray.shutdowns == 1 and not fake_ray.initialized

    connect(address)  # and a later join starts afresh, and succeeds
    assert len(fake_ray.inits) == 2 and fake_ray.initialized and cluster._stalled is None


def test_a_join_that_answers_in_time_connects_from_the_main_thread_too(
        fake_ray: FakeRay, silent_port: int) -> None:
    fake_ray.answer.set()
    connect(f"127.0.0.1:{silent_port}", num_cpus=3)
    assert fake_ray.initialized and cluster._started_here
    options = fake_ray.inits[0]
    assert options["num_cpus"] is None and options["resources"] is None  # the cluster's own


def test_a_new_local_ray_is_not_cut_short_by_the_join_timeout(
        fake_ray: FakeRay, monkeypatch: pytest.MonkeyPatch) -> None:
    # A cold local start takes 4-11 s here: the timeout is for joining a cluster only.
    monkeypatch.setenv(CONNECT_TIMEOUT_ENV, "0.2")
    answer_later = threading.Timer(0.6, fake_ray.answer.set)
    answer_later.start()
    began = time.monotonic()
    connect("local")
    assert time.monotonic() - began >= 0.5 and fake_ray.initialized
    assert fake_ray.inits[0]["address"] == "local"


@pytest.mark.parametrize(("value", "seconds"), [(None, 20.0), ("", 20.0), ("2.5", 2.5)])
def test_the_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                value: str | None, seconds: float) -> None:
    if value is None:
        monkeypatch.delenv(CONNECT_TIMEOUT_ENV, raising=False)
    else:
        monkeypatch.setenv(CONNECT_TIMEOUT_ENV, value)
    assert connect_timeout_s() == seconds


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf", "nan"])
def test_a_bad_timeout_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                      value: str) -> None:
    monkeypatch.setenv(CONNECT_TIMEOUT_ENV, value)
    with pytest.raises(SeisprocError, match=f"{CONNECT_TIMEOUT_ENV} must be a number of "
                                            f"seconds above 0; got '{value}'"):
        connect_timeout_s()


def test_the_real_ray_gives_up_on_a_silent_port_within_the_timeout() -> None:
    # Without the deadline, ray.init retries this for about 14 minutes.
    env = {**os.environ, CONNECT_TIMEOUT_ENV: "2", "RAY_AUTH_MODE": "disabled"}
    env["PYTHONPATH"] = os.pathsep.join(
        str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)
    env.pop("RAY_ADDRESS", None)
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", SILENT_CLUSTER], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, second = (line.split("|", 2) for line in proc.stdout.splitlines())
    assert 1.5 < float(first[0]) < 5 and first[1] == "False"
    assert "Ray did not join it within 2 s" in first[2]
    assert float(second[0]) < 5 and second[1] == "False"
    assert time.monotonic() - began < 30  # the abandoned ray.init does not hold the exit
