"""``seisproc monitor``: one JSON snapshot, a JSON stream, the live view, errors."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from seisproc.alerts import Alert, AlertStatus, Severity
from seisproc.cli.main import cli
from seisproc.cli.monitor import render_snapshot
from seisproc.engine import open_store
from seisproc.jobs.model import Job, JobProgress, JobState
from seisproc.jobs.owner import this_owner
from seisproc.jobs.ports import ControlRequest
from seisproc.monitoring import ClusterStatus, GpuStats, JobMetrics, NodeStatus, ResourceSnapshot


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["monitor", "--interval", "0.05", *args])
    return result.exit_code, result.stdout, result.stderr


def test_once_json_prints_one_snapshot_with_no_job_running(seisproc_home: Path) -> None:
    code, out, _ = run("--once", "--json")
    assert code == 0
    snapshot = json.loads(out)
    assert 0 <= snapshot["cpu_percent"] <= 100 and snapshot["memory_total_bytes"] > 0
    assert snapshot["disks"][0]["path"] == str(seisproc_home)
    assert snapshot["jobs"] == [] and snapshot["cluster"] is None


def test_running_jobs_are_read_from_the_history(seisproc_home: Path) -> None:
    store = open_store()
    progress = JobProgress(units_done=3, units_total=12, traces_done=300, traces_total=1200,
                           traces_per_s=950.0, eta_s=1.0)
    store.save_job(Job(id="feedc0ffee01", name="line-3", state=JobState.RUNNING,
                       owner=this_owner(), output=str(seisproc_home / "out" / "l3.sgy"),
                       progress=progress))
    store.save_job(Job(id="deadbeef0002", name="orphan", state=JobState.RUNNING,
                       owner="other-host:1"))
    store.renew_leases({"deadbeef0002": 0}, 0.0)
    # ^ its host stopped renewing its lease (by the database's clock): not shown as running
    store.close()
    time.sleep(0.01)
    code, out, _ = run("--once", "--json")
    assert code == 0
    [job] = json.loads(out)["jobs"]
    assert (job["job_id"], job["name"], job["fraction"], job["traces_per_s"]) == (
        "feedc0ffee01", "line-3", 0.25, 950.0)


def test_json_without_once_streams_one_line_per_sample() -> None:
    code, out, _ = run("--json", "--count", "3")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    times = [json.loads(line)["monotonic_s"] for line in lines]
    assert times == sorted(times) and len(set(times)) == 3


def test_live_view_shows_resources_jobs_and_alerts_sections() -> None:
    code, out, _ = run("--count", "2")
    assert code == 0
    for part in ("seisproc monitor", "CPU", "memory", "home", "no active jobs", "no alerts"):
        assert part in out


def test_live_view_lists_alerts_from_the_rule_file(seisproc_home: Path) -> None:
    (seisproc_home / "alerts.toml").write_text(
        '[[rules]]\nname = "always"\nmetric = "memory_percent"\ncomparison = ">="\n'
        'threshold = 0\nactions = []\nmessage = "memory at {value:.0f}%"\n')
    code, out, _ = run("--count", "2")
    assert code == 0
    assert "Recent alerts" in out and "always" in out and "memory at" in out


def test_a_malformed_rule_file_is_one_error_line(seisproc_home: Path) -> None:
    (seisproc_home / "alerts.toml").write_text('[[rules]]\nname = "r"\nmetric = "cpu"\n'
                                               'comparison = ">"\nthreshold = 1\n')
    code, out, err = run("--once")
    assert code == 1
    assert err.startswith("error: ") and "rule 'r': field 'metric'" in err
    assert len(err.strip().splitlines()) == 1


def test_the_view_renders_gpus_cluster_jobs_and_alerts() -> None:
    snapshot = ResourceSnapshot(
        at=datetime(2026, 3, 1, tzinfo=UTC), monotonic_s=1.0, interval_s=1.0,
        cpu_percent=50.0, cpu_per_core=(0.0, 100.0), memory_percent=90.0,
        memory_used_bytes=3 << 30, memory_total_bytes=4 << 30, swap_percent=1.0,
        gpus=(GpuStats(0, "NVIDIA H200", 71.0, 10 << 30, 140 << 30, 55.0),),
        cluster=ClusterStatus((NodeStatus("a" * 56, "10.0.0.1", True, 16, 2, 14, 9, 1 << 30,
                                          8 << 30),
                               NodeStatus("b" * 56, "10.0.0.2", False, 16))),
        jobs=(JobMetrics("c0ffee000001", "line-9", "RUNNING", fraction=0.42,
                         traces_per_s=1234.0, predicted_traces_per_s=2000.0,
                         no_progress_seconds=75.0, eta_s=3725.0),))
    alert = Alert("high_memory", Severity.WARNING, AlertStatus.FIRING, "Memory usage at 90%")
    console = Console(record=True, width=160)
    console.print(render_snapshot(snapshot, [alert]))
    text = console.export_text()
    for part in ("NVIDIA H200", "55 °C", "aaaaaaaaaaaa", "10.0.0.2", "dead", "14/16", "9/14",
                 "1.0 GB of 8.0 GB", "line-9", "42 %", "1,234", "2,000", "1:15", "1:02:05",
                 "Memory usage at 90%", "cores  █"):
        assert part in text, part


def test_downsampled_snapshots_become_history_resource_samples(tmp_path: Path) -> None:
    from seisproc.engine import resource_recorder
    from seisproc.history import JobHistoryStorage
    from seisproc.monitoring import ResourceMonitor

    store = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        sampler = ResourceMonitor(interval_s=0.05, sink_interval_s=0.1, gpus=lambda: (),
                                  sink=resource_recorder(store))
        taken = []
        for _ in range(6):
            taken.append(sampler.sample())
            time.sleep(0.05)
        samples = store.resource_samples()
        assert 2 <= len(samples) < len(taken), "one sample per sink window, not per snapshot"
        assert all(0.0 <= s.cpu_percent <= 100.0 and 0.0 < s.memory_percent <= 100.0
                   and s.gpu_percent is None for s in samples)
        assert {s.at for s in samples} <= {t.at for t in taken}
    finally:
        store.close()


def test_a_job_rule_with_pause_job_asks_the_jobs_process_to_pause_it(
        seisproc_home: Path) -> None:
    (seisproc_home / "alerts.toml").write_text(
        '[[rules]]\nname = "too_slow"\nmetric = "job.traces_per_s"\ncomparison = "<"\n'
        'threshold = 1000\nactions = ["pause_job"]\nmessage = "{value:.0f} traces/s"\n')
    store = open_store()
    try:
        store.save_job(Job(id="feedc0ffee01", name="line-3", state=JobState.RUNNING,
                           owner=this_owner(), progress=JobProgress(traces_per_s=10.0)))
        code, _, _ = run("--once", "--json")
        assert code == 0
        assert store.take_control_requests(["feedc0ffee01"]) == [
            ControlRequest("feedc0ffee01", "pause", "paused by alert too_slow: 10 traces/s")]
    finally:
        store.close()
