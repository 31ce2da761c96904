"""One job over a three-node Ray cluster: units land on both worker nodes, same bytes.

``ray.cluster_utils.Cluster`` needs its own driver connection, and this session's is held
by the single-node Ray of the other tests; so the cluster lives in a child process
(``multinode_run.py``) that reports as JSON. About 15-25 s on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.slow
def test_one_jobs_units_run_on_every_node_with_the_bytes_of_a_local_run(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(  # the tests folder: shared reference outputs
        [str(HERE.parent)] + [str(Path(p).resolve())
                              for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, str(HERE / "multinode_run.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"multi-node run {report['seconds']} s")
    assert report["units"] == 8 and not report["errors"]
    assert report["most_in_flight"] == 4
    assert report["unit_nodes"] == report["worker_nodes"] and len(report["unit_nodes"]) == 2
    assert report["identical"]
