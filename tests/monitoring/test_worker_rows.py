"""Per-worker rows of the cluster status: what the GUI's worker table shows.

The rows travel in snapshots (``seisproc monitor --json``, webhooks), so they must round
trip through JSON, and samples written before they existed must still read back.
"""

from __future__ import annotations

import json

from seisproc.monitoring.snapshot import ClusterStatus, NodeStatus, WorkerInfo
from seisproc.orchestration.executor import WorkerStatus
from seisproc.orchestration.probe import _worker_info


class FakeActorId:
    def hex(self) -> str:
        return "c0ffee" * 4


class FakeActor:
    _actor_id = FakeActorId()


def test_worker_rows_round_trip_through_json() -> None:
    status = ClusterStatus((NodeStatus("n1", "10.0.0.1", True),), workers_lost=1,
                           workers=(WorkerInfo("n1", "w1", "cuda", "busy", "job1", 2),
                                    WorkerInfo("n1", "w2")))
    again = ClusterStatus.from_dict(json.loads(json.dumps(status.to_dict())))
    assert again == status
    assert again.workers[1] == WorkerInfo("n1", "w2", "cpu", "idle", None, 0)


def test_a_cluster_status_stored_before_worker_rows_reads_back_without_them() -> None:
    old = {"nodes": [{"node_id": "n1", "address": "10.0.0.1", "alive": True}],
           "workers_lost": 0, "nodes_alive": 1, "nodes_dead": 0}
    assert ClusterStatus.from_dict(old).workers == ()
    newer = {"node_id": "n1", "worker_id": "w1", "gpu_index": 3}  # a later writer's field
    assert WorkerInfo.from_dict(newer) == WorkerInfo("n1", "w1")


def test_the_probe_names_each_workers_state_and_the_job_it_runs_now() -> None:
    busy = _worker_info(WorkerStatus(FakeActor(), 2, "n1", ("job-a", "job-b"), "cuda"))
    assert busy == WorkerInfo("n1", "c0ffee" * 4, "cuda", "busy", "job-a", 2)
    idle = _worker_info(WorkerStatus(FakeActor(), 0, ""))
    assert (idle.state, idle.job_id, idle.kind, idle.node_id) == ("idle", None, "cpu", "")
