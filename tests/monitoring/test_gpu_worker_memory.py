"""GPU workers' own device memory in the monitor's records: the worker rows carry it, the
``gpu.N.*`` metrics read it, alert rules can watch it, the worker table shows it. (On a
real Ray, with a fake device: ``tests/gpu/test_device_memory_on_ray.py``.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from seisproc.alerts.config import known_metric, parse_alert_config
from seisproc.monitoring import ClusterStatus, GpuStats, ResourceSnapshot, WorkerInfo

GB = 2**30


def gpu_worker(
    index: int | None,
    used: int | None,
    peak: int | None,
    *,
    budget: int | None = None,
    total: int | None = 80 * GB,
    free: int | None = None,
    node: str = "n1",
) -> WorkerInfo:
    return WorkerInfo(
        node,
        f"w{index}{node}",
        "cuda",
        "busy",
        "job1",
        1,
        device_name="NVIDIA H100 80GB HBM3",
        device_index=index,
        device_used_bytes=used,
        device_peak_bytes=peak,
        device_budget_bytes=budget,
        device_total_bytes=total,
        device_free_bytes=free,
    )


def snapshot(*workers: WorkerInfo, gpus: tuple[GpuStats, ...] = ()) -> ResourceSnapshot:
    return ResourceSnapshot(
        at=datetime(2026, 3, 1, tzinfo=UTC),
        monotonic_s=1.0,
        interval_s=1.0,
        cpu_percent=10.0,
        cpu_per_core=(10.0,),
        memory_percent=20.0,
        memory_used_bytes=1 << 30,
        memory_total_bytes=4 << 30,
        swap_percent=0.0,
        gpus=gpus,
        cluster=ClusterStatus(workers=(WorkerInfo("n1", "cpu-worker"), *workers)),
    )


def test_device_figures_round_trip_through_json_and_old_rows_read_without_them() -> None:
    row = gpu_worker(3, 2 * GB, 5 * GB, budget=8 * GB, free=70 * GB)
    status = ClusterStatus(workers=(row,))
    assert ClusterStatus.from_dict(json.loads(json.dumps(status.to_dict()))) == status
    old = WorkerInfo.from_dict({"node_id": "n1", "worker_id": "w1", "kind": "cuda"})
    assert old.device_name is None and old.device_percent(old.device_used_bytes) is None


def test_gpu_metrics_read_the_workers_use_and_peak_against_their_budget() -> None:
    values = snapshot(gpu_worker(0, 2 * GB, 6 * GB, budget=8 * GB, free=60 * GB)).values()
    assert values["gpu.0.worker_memory_percent"] == pytest.approx(25.0)
    assert values["gpu.0.worker_peak_percent"] == pytest.approx(75.0)
    assert values["gpu.0.memory_percent"] == pytest.approx(25.0)  # 20 of 80 GB, no NVML


def test_without_a_budget_the_device_is_the_limit_and_nvml_keeps_the_device_figure() -> None:
    nvml = GpuStats(0, "NVIDIA H100 80GB HBM3", 90.0, 40 * GB, 80 * GB)
    values = snapshot(gpu_worker(0, 8 * GB, 20 * GB, free=70 * GB), gpus=(nvml,)).values()
    assert values["gpu.0.worker_memory_percent"] == pytest.approx(10.0)
    assert values["gpu.0.worker_peak_percent"] == pytest.approx(25.0)
    assert values["gpu.0.memory_percent"] == pytest.approx(50.0)  # NVML: every process


def test_gpu_zero_on_two_nodes_reads_as_the_fuller_one_and_unknowns_stay_absent() -> None:
    values = snapshot(
        gpu_worker(0, 8 * GB, 8 * GB, node="a"),
        gpu_worker(0, 40 * GB, 60 * GB, node="b"),
        gpu_worker(None, None, None, budget=GB, total=None),
    ).values()
    assert values["gpu.0.worker_memory_percent"] == pytest.approx(50.0)
    assert values["gpu.0.worker_peak_percent"] == pytest.approx(75.0)
    assert "gpu.0.memory_percent" not in values  # no free figure reported


def test_an_alert_rule_on_a_workers_peak_fires_from_its_report() -> None:
    assert known_metric("gpu.1.worker_peak_percent")
    config = parse_alert_config(
        '[[rules]]\nname = "gpu_budget"\nmetric = "gpu.1.worker_peak_percent"\n'
        'comparison = ">"\nthreshold = 90\nactions = []\n'
    )
    (rule,) = [r for r in config.alert_rules() if r.name == "gpu_budget"]
    assert rule.condition is not None
    assert rule.condition(snapshot(gpu_worker(1, GB, 7.5 * GB, budget=8 * GB)))  # type: ignore[arg-type]
    assert not rule.condition(snapshot(gpu_worker(1, GB, 6 * GB, budget=8 * GB)))  # type: ignore[arg-type]


def test_the_worker_table_shows_used_budget_and_peak_in_the_kind_column() -> None:
    pytest.importorskip("PySide6")
    from PySide6.QtCore import Qt

    from seisproc.gui.widgets.worker_table import WorkerTableModel

    model = WorkerTableModel()
    model.set_cluster(
        ClusterStatus(
            workers=(
                WorkerInfo("n1", "a-cpu"),
                gpu_worker(2, GB, 3 * GB, budget=4 * GB),
                gpu_worker(3, GB // 2, None, node="n2"),
            )
        )
    )
    kinds = [model.data(model.index(row, 2)) for row in range(model.rowCount())]
    assert kinds == [
        "cpu",
        "cuda · 1.0 GB used of 4.0 GB budget, peak 3.0 GB",
        "cuda · 512.0 MB used of 80.0 GB, peak -",
    ]
    tooltip = model.data(model.index(1, 2), Qt.ItemDataRole.ToolTipRole)
    assert tooltip == "NVIDIA H100 80GB HBM3 (GPU 2)"
