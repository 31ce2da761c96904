"""ResourceMonitor: sane figures, a bounded buffer, subscribers on time, failures contained."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from seisproc.monitoring import (
    SNAPSHOT_METRICS,
    ClusterStatus,
    JobMetrics,
    NodeStatus,
    NvmlGpus,
    ResourceMonitor,
    ResourceSnapshot,
)


def quiet_monitor(**options: Any) -> ResourceMonitor:
    options.setdefault("gpus", lambda: ())
    return ResourceMonitor(**options)


def test_snapshot_fields_are_sane(seisproc_home: Path) -> None:
    monitor = quiet_monitor()
    time.sleep(0.1)
    s = monitor.sample()
    assert 0 <= s.cpu_percent <= 100
    assert len(s.cpu_per_core) == psutil.cpu_count() and all(0 <= c <= 100
                                                              for c in s.cpu_per_core)
    assert 0 < s.memory_percent < 100 and 0 < s.memory_used_bytes < s.memory_total_bytes
    assert 0 <= s.swap_percent <= 100
    assert s.net_sent_bytes_per_s >= 0 and s.net_recv_bytes_per_s >= 0
    [home] = s.disks
    assert (home.label, home.path) == ("home", str(seisproc_home))
    assert 0 < home.percent < 100 and home.used_bytes + home.free_bytes <= home.total_bytes
    assert s.cluster is None and s.jobs == ()
    assert s.metrics == {"job_no_progress_seconds": 0.0, "jobs_active": 0.0}
    assert s.at.tzinfo is not None and s.interval_s == pytest.approx(1.0)


def test_disk_write_rate_sees_a_file_being_written(seisproc_home: Path) -> None:
    monitor = quiet_monitor()
    data = b"\0" * (1 << 20)
    with open(seisproc_home / "blob", "wb") as fh:
        for _ in range(32):
            fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    s = monitor.sample()
    if s.disk_write_bytes_per_s is None:
        pytest.skip("this system reports no disk I/O counters")
    assert s.disk_write_bytes_per_s > 0


def test_ring_buffer_keeps_only_the_latest_snapshots() -> None:
    monitor = quiet_monitor(history_size=5)
    taken = [monitor.sample() for _ in range(12)]
    assert monitor.history() == taken[-5:]
    assert monitor.latest is taken[-1]


def test_subscribers_get_each_snapshot_every_interval() -> None:
    got: list[ResourceSnapshot] = []
    enough = threading.Event()

    def subscriber(snapshot: ResourceSnapshot) -> None:
        got.append(snapshot)
        if len(got) == 8:
            enough.set()

    monitor = quiet_monitor(interval_s=0.05)
    monitor.subscribe(subscriber)
    with monitor:
        assert enough.wait(5)
    gaps = [b.monotonic_s - a.monotonic_s for a, b in pairwise(got[:8])]
    assert 0.3 <= got[7].monotonic_s - got[0].monotonic_s < 0.6, gaps  # 7 intervals of 0.05
    assert max(gaps) < 0.2, gaps
    assert got[:8] == monitor.history()[:8]


def test_an_unsubscribed_subscriber_hears_nothing_more() -> None:
    got: list[ResourceSnapshot] = []
    monitor = quiet_monitor()
    unsubscribe = monitor.subscribe(got.append)
    monitor.sample()
    unsubscribe()
    monitor.sample()
    assert len(got) == 1


def test_failing_subscriber_probe_and_job_source_do_not_stop_sampling(
        caplog: pytest.LogCaptureFixture) -> None:
    got: list[ResourceSnapshot] = []

    def broken(_: object = None) -> Any:
        raise RuntimeError("boom")

    monitor = quiet_monitor(cluster=broken, jobs=broken)
    monitor.subscribe(broken)
    monitor.subscribe(got.append)
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            monitor.sample()
    assert len(got) == 3 and got[-1].cluster is None and got[-1].jobs == ()
    failures = [r.getMessage() for r in caplog.records]
    assert len(failures) == 3  # probe, job source, subscriber: each once, then silenced
    assert any("cluster probe" in m for m in failures)


def test_no_gpu_driver_means_no_gpu_entries_and_no_error(
        caplog: pytest.LogCaptureFixture) -> None:
    class NoDriver:
        def nvmlInit(self) -> None:  # noqa: N802 (NVML's names)
            raise OSError("NVML Shared Library Not Found")

    with caplog.at_level(logging.WARNING):
        snapshot = ResourceMonitor(gpus=NvmlGpus(NoDriver()).read).sample()
        default = ResourceMonitor().sample()  # the real NVML: no driver on CI machines
    assert snapshot.gpus == () and snapshot.gpu_percent is None
    assert "gpu_percent" not in snapshot.values()
    assert caplog.records == []
    assert isinstance(default.gpus, tuple)


class FakeNvml:
    """Two GPUs as NVML's Python binding reports them; the second has no sensor."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self) -> None:
        self.shut = False

    def nvmlInit(self) -> None:  # noqa: N802
        return None

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:  # noqa: N802
        return SimpleNamespace(gpu=[35, 80][h], memory=10)

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:  # noqa: N802
        return SimpleNamespace(used=[4 << 30, 20 << 30][h], total=80 << 30, free=0)

    def nvmlDeviceGetName(self, h: int) -> Any:  # noqa: N802
        return [b"NVIDIA H100", "NVIDIA H200"][h]

    def nvmlDeviceGetTemperature(self, h: int, sensor: int) -> int:  # noqa: N802
        if h == 1:
            raise RuntimeError("not supported")
        return 61


def test_gpus_are_read_through_nvml() -> None:
    nvml = FakeNvml()
    gpus = NvmlGpus(nvml)
    monitor = ResourceMonitor(gpus=gpus.read)
    s = monitor.sample()
    gpus.close()
    assert [(g.index, g.name, g.utilization_percent, g.temperature_c) for g in s.gpus] == [
        (0, "NVIDIA H100", 35.0, 61.0), (1, "NVIDIA H200", 80.0, None)]
    assert s.gpus[1].memory_percent == 25.0 and s.gpu_percent == 57.5
    assert s.values()["gpu.0.temperature_c"] == 61.0 and "gpu.1.temperature_c" not in s.values()
    assert nvml.shut


def test_running_jobs_output_folders_are_watched(tmp_path: Path) -> None:
    out = tmp_path / "survey-out"
    out.mkdir()
    jobs = [JobMetrics("a1", "line-1", "RUNNING", output=str(out / "a.sgy"),
                       no_progress_seconds=12.0),
            JobMetrics("b2", "line-2", "RUNNING", output=str(out / "b.sgy"),
                       no_progress_seconds=40.0),
            JobMetrics("c3", "gone", "RUNNING", output=str(tmp_path / "missing" / "c.sgy"))]
    s = quiet_monitor(jobs=lambda: jobs).sample()
    assert [(d.label, d.path) for d in s.disks] == [
        ("home", s.disks[0].path), ("job a1", str(out))]
    assert s.metrics["job_no_progress_seconds"] == 40.0 and s.jobs_running == 3


def test_a_lost_node_counts_as_recent_until_the_window_passes() -> None:
    alive = ClusterStatus((NodeStatus("n1", "10.0.0.1", True), NodeStatus("n2", "10.0.0.2",
                                                                         True)))
    one_dead = ClusterStatus((alive.nodes[0], NodeStatus("n2", "10.0.0.2", False)),
                             workers_lost=2)
    readings = iter([alive, one_dead, one_dead])
    monitor = quiet_monitor(cluster=lambda: next(readings))
    first, second, third = (monitor.sample() for _ in range(3))
    assert first.metrics["nodes_lost_recently"] == 0
    assert second.metrics["nodes_lost_recently"] == 1
    assert second.metrics["workers_lost_recently"] == 2  # the probe's count went 0 -> 2
    assert third.metrics["nodes_lost_recently"] == 1
    assert second.values()["cluster.nodes_dead"] == 1.0


def test_the_sink_gets_one_averaged_snapshot_per_window() -> None:
    stored: list[ResourceSnapshot] = []
    monitor = quiet_monitor(interval_s=0.02, sink=stored.append, sink_interval_s=0.1)
    taken = []
    for _ in range(20):
        taken.append(monitor.sample())
        time.sleep(0.02)
    assert 3 <= len(stored) <= 6, len(stored)
    first_window = [s for s in taken if s.monotonic_s <= stored[0].monotonic_s]
    assert stored[0].cpu_percent == pytest.approx(
        sum(s.cpu_percent for s in first_window) / len(first_window))
    assert stored[0].interval_s >= 0.09


def test_every_value_name_is_in_the_metric_catalogue() -> None:
    nvml = FakeNvml()
    jobs = [JobMetrics("a1", "x", "RUNNING", traces_per_s=1.0, predicted_traces_per_s=2.0)]
    cluster = ClusterStatus((NodeStatus("n1", "10.0.0.1", True),))
    s = ResourceMonitor(gpus=NvmlGpus(nvml).read, jobs=lambda: jobs,
                        cluster=lambda: cluster).sample()

    def listed(name: str) -> bool:
        parts = name.split(".")
        return any(len(p.split(".")) == len(parts) and all(
            w in ("*", n) for w, n in zip(p.split("."), parts, strict=True))
            for p in SNAPSHOT_METRICS)

    assert [n for n in s.values() if not listed(n)] == []
    assert {"gpu_percent", "disk.max_percent", "cluster.nodes_alive", "nodes_lost_recently",
            "job_min_rate_ratio", "disk_write_bytes_per_s"} <= set(s.values())


def test_a_snapshot_survives_a_dict_round_trip() -> None:
    jobs = [JobMetrics("a1", "x", "RUNNING", traces_per_s=1.0, predicted_traces_per_s=2.0)]
    cluster = ClusterStatus((NodeStatus("n1", "10.0.0.1", True, 2, 1, 2, 1, 10, 100),),
                            workers_lost=1)
    s = ResourceMonitor(gpus=NvmlGpus(FakeNvml()).read, jobs=lambda: jobs,
                        cluster=lambda: cluster).sample()
    again = ResourceSnapshot.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        ResourceMonitor(interval_s=0)
