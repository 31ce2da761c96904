"""The Ray cluster probe on a real local Ray: nodes, workers, object store, a killed worker.

Ray starts once for this module (seconds) unless the session already runs it; a Ray this
module started is stopped at its end, one it found is left running.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from seisproc.alerts import AlertManager, get_default_rules
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore
from seisproc.jobs.model import JobState
from seisproc.monitoring import JobTracker, ResourceMonitor
from seisproc.orchestration import RayExecutor, connect, ray_shutdown_if_started
from seisproc.orchestration.probe import RayClusterProbe
from seisproc.processing.flow import Flow

pytestmark = pytest.mark.slow

SLOW_STEPS = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
              {"spiking_decon": {"operator_ms": 400}}, {"agc": {"window_ms": 500}}]
"""About 5 ms per gather: a 60-gather job is still running when a worker is killed."""


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A Ray of this process: a new local instance ("local" ignores any other Ray on the
    machine), or the session's if one is already connected."""
    started = not ray.is_initialized()
    connect("local")
    yield
    if started:
        ray_shutdown_if_started()


@pytest.fixture
def executor(local_ray: None) -> Iterator[RayExecutor]:
    pool = RayExecutor(workers=1, units_per_worker=2)
    pool.wait_ready(timeout_s=60)
    yield pool
    pool.shutdown()


def test_probe_reports_the_node_its_worker_and_the_object_store(executor: RayExecutor) -> None:
    status = RayClusterProbe(executor)()
    [node] = status.nodes
    assert node.alive and node.node_id == executor.workers()[0].node
    assert node.cpus_total >= 1 and 0 <= node.cpus_available <= node.cpus_total - 1
    assert (node.workers_alive, node.workers_busy) == (1, 0)
    assert node.object_store_total_bytes and node.object_store_total_bytes > 0
    assert node.object_store_used_bytes is not None and node.object_store_used_bytes >= 0
    assert status.workers_lost == 0 and status.nodes_dead == 0
    assert [(w.node_id, w.kind, w.state, w.job_id) for w in status.workers] == [
        (node.node_id, "cpu", "idle", None)]


def test_probe_without_an_executor_reports_nodes_only(local_ray: None) -> None:
    [node] = RayClusterProbe()().nodes
    assert node.alive and node.workers_alive is None and node.workers_busy is None


def test_killing_a_worker_raises_worker_lost_and_the_probe_counts_it(
        executor: RayExecutor, tmp_path: Path) -> None:
    survey = synthesize_survey(tmp_path / "shots.sgy",
                               SurveyGeometry(shots=60, channels=48, samples=501, dt_ms=4.0))
    flow = Flow.from_mapping({"name": "kill-test", "input": str(survey),
                              "output": str(tmp_path / "out.sgy"), "steps": SLOW_STEPS})
    manager = JobManager(MemoryJobStore(), lambda: executor, CheckpointStore(tmp_path / "c"),
                         gathers_per_unit=1)
    alerts = AlertManager(get_default_rules())
    manager.subscribe(alerts.handle_event)
    probe = RayClusterProbe(executor)
    monitor = ResourceMonitor(jobs=JobTracker.following(manager), cluster=probe,
                              gpus=lambda: ())
    progressed = threading.Event()
    manager.subscribe(lambda e: progressed.set() if e.kind is JobEventKind.PROGRESS
                      and e.job.progress.units_done else None)
    try:
        assert monitor.sample().metrics["workers_lost_recently"] == 0
        job = manager.submit(flow)
        assert progressed.wait(60)
        assert job.id in {w.job_id for w in probe().workers}
        ray.kill(executor.workers()[0].actor, no_restart=True)
        assert manager.wait(job.id, 120).state is JobState.COMPLETED  # unit retried
        after = monitor.sample()
    finally:
        manager.close()
        alerts.close()
    lost = [a for a in alerts.recent() if a.rule == "worker_lost"]
    assert lost and lost[0].job_id == job.id and "kill-test" in lost[0].message
    assert after.cluster is not None and after.cluster.workers_lost == 1
    assert after.metrics["workers_lost_recently"] == 1

