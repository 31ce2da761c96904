"""Connecting to Ray: idempotent, quiet, and a local Ray outlives the thread that started it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import ray

from seisproc.orchestration import cluster_cpus, connect, node_id

STARTED_FROM_A_THREAD = textwrap.dedent("""
    import threading, time
    import ray
    from seisproc.orchestration import connect

    starter = threading.Thread(target=connect, kwargs={"num_cpus": 1})
    starter.start()
    starter.join()  # the thread that started Ray is gone
    time.sleep(1.0)

    @ray.remote
    def one():
        return 1

    print(ray.get(one.remote(), timeout=30))
""")


def test_connect_again_is_a_no_op_and_the_defaults_are_set(ray_cluster: None) -> None:
    before = ray.get_runtime_context().get_node_id()
    connect()
    assert ray.get_runtime_context().get_node_id() == before == node_id()
    assert cluster_cpus() == int(ray.cluster_resources()["CPU"]) >= 1
    # (the auth default of a local start is pinned in test_token_cluster.py: here, a
    # test run earlier in the session may have restored its own RAY_AUTH_MODE)
    assert "RAY_task_events_max_num_task_in_gcs" in os.environ


def test_a_local_ray_started_from_a_short_lived_thread_keeps_running() -> None:
    # The JobManager creates its executor on its scheduler thread. Ray's processes die
    # with the thread that forked them (PR_SET_PDEATHSIG), so connect() must not fork
    # them from that thread: without care the next call hangs 60 s, then exits.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run([sys.executable, "-c", STARTED_FROM_A_THREAD], capture_output=True,
                          text=True, timeout=50, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "1", proc.stderr[-2000:]
    assert "SIGTERM handler" not in proc.stderr  # expected off the main thread: not shown
