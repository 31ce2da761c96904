"""Run one job on a three-node Ray cluster on this machine; print what happened as JSON.

Run by ``test_multinode.py`` in a child process: a process holds one Ray connection, and
the test session's already belongs to its single-node instance. Usage::

    python multinode_run.py WORKDIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ray.cluster_utils import Cluster
from ray_helpers import GEOMETRY, make_flow, make_spec, run_units

from reference_outputs import reference_output
from seisproc.io import synthesize_survey
from seisproc.io.writer import commit_output
from seisproc.jobs.plan import plan_job
from seisproc.orchestration import RayExecutor, connect, ray_shutdown_if_started

NODE_ARGS = {"num_cpus": 1, "object_store_memory": 100 * 2**20}


def run_job_on_cluster(workdir: Path, cluster: Cluster) -> dict[str, object]:
    """The job's units on a pool spread over the cluster, against a local reference."""
    survey = synthesize_survey(workdir / "shots.sgy", GEOMETRY)
    expected = reference_output(make_flow(survey, workdir / "local.sgy")).read_bytes()
    flow = make_flow(survey, workdir / "cluster.sgy")
    plan = plan_job(flow, gathers_per_unit=1)
    spec = make_spec(plan)
    connect(cluster.address)
    executor = RayExecutor(workers=2)
    try:
        executor.wait_ready(60)
        done, most = run_units(executor, spec, plan.units)
        executor.release_job(spec.job_id)
    finally:
        executor.shutdown()
    commit_output(plan.partial_path, flow.output)
    worker_nodes = {n.node_id for n in cluster.worker_nodes}
    return {
        "units": len(done),
        "errors": [str(c.error) for c in done if c.result is None],
        "most_in_flight": most,
        "unit_nodes": sorted({c.node for c in done}),
        "worker_nodes": sorted(worker_nodes),
        "identical": flow.output.read_bytes() == expected,
    }


def main(workdir: Path) -> None:
    start = time.perf_counter()
    # The head holds no CPU: the two one-CPU nodes take one worker each.
    cluster = Cluster(initialize_head=True, head_node_args={**NODE_ARGS, "num_cpus": 0})
    try:
        for _ in range(2):
            cluster.add_node(**NODE_ARGS)
        cluster.wait_for_nodes()
        report = run_job_on_cluster(workdir, cluster)
    finally:
        ray_shutdown_if_started()
        cluster.shutdown()
    report["seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
