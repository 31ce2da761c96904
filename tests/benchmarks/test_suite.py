"""The benchmark suite (``python -m benchmarks``): its table on canned reports, its runner
on the cheapest real benchmark and on a script that fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.suite import (
    BENCHMARKS,
    Benchmark,
    BenchmarkRun,
    document,
    main,
    parse_report,
    rows_for,
    run_benchmark,
    select,
)
from benchmarks.table import Row, format_markdown, format_table, format_value

BY_NAME = {bench.name: bench for bench in BENCHMARKS}
MACHINE = {"cpu": "AMD EPYC", "logical_cpus": 2, "virtual_machine": True, "memory_gib": 23.5,
           "platform": "Linux-6.18-x86_64", "python": "3.11.7", "versions": {"ray": "2.60.0"},
           "gpus": [], "load_average_at_start": [1.5, 1.0, 0.8],
           "load_average_at_end": [2.25, 1.2, 0.9]}


def _stats(p99: float, p50: float = 1.0, n: int = 5) -> dict[str, float]:
    return {"n": n, "p50_ms": p50, "p99_ms": p99}


CANNED = {
    "cancellation_latency": BenchmarkRun("cancellation_latency", "ok", report={
        "idle": {"cancel_to_cancelled": _stats(11.93)},
        "under_load": {"cancel_to_cancelled": _stats(250.0, p50=26.4)}}),
    "submission_latency": BenchmarkRun("submission_latency", "ok", report={
        "idle": {"submit": _stats(11.99, n=50)},
        "under_load": {"submit": _stats(3.07), "submit_on_cpu": _stats(1.2)}}),
    "processing_throughput": BenchmarkRun("processing_throughput", "ok", report={
        "survey": {"traces": 192000},
        "processes_1": {"flow_over_ceiling": 0.51},
        "processes_2": {"flow_over_ceiling": 0.48, "bandpass_agc": {"traces_per_s": 26727}}}),
    "history_scale": BenchmarkRun("history_scale", "ok", report={
        "jobs": 1_000_000, "figures": {"get_recent_50": {"p99_ms": 1.8}}}),
    "gpu_throughput": BenchmarkRun("gpu_throughput", "skipped", reason="no GPU"),
    "job_throughput": BenchmarkRun("job_throughput", "error", reason="exit status 1: boom"),
}


@pytest.fixture
def rows() -> list[Row]:
    return [row for name, run in CANNED.items() for row in rows_for(BY_NAME[name], run)]


def _row(rows: list[Row], figure: str) -> Row:
    (row,) = [r for r in rows if r.figure == figure]
    return row


def test_each_figure_is_judged_against_the_seed_target_and_ours(rows: list[Row]) -> None:
    idle = _row(rows, "cancel to CANCELLED p99, idle")
    assert (idle.measured, idle.seed, idle.ours) == (11.93, 2000, 200)
    assert idle.seed_met and idle.ours_met
    loaded = _row(rows, "p99 under 20 running jobs")
    assert loaded.seed_met and loaded.ours_met is False  # 250 ms: < 2 s, not < 200 ms
    assert _row(rows, "p50 under 20 running jobs").ours_met is None  # no target: no verdict
    submit = _row(rows, "submit() p99, idle")
    assert submit.seed_met and submit.ours_met is False  # 12 ms against 50 and 5
    one_process = _row(rows, "bandpass+AGC / read+write, 1 process")
    two_processes = _row(rows, "bandpass+AGC / read+write, 2 processes")
    assert one_process.ours_met and two_processes.ours_met is False  # higher is better


def test_what_was_not_measured_says_why(rows: list[Row]) -> None:
    assert _row(rows, "filtered query p99").note == "missing in the report"
    (gpu,) = [r for r in rows if r.benchmark == "GPU worker"]
    (failed,) = [r for r in rows if r.benchmark == "job throughput"]
    assert (gpu.measured, gpu.note) == (None, "no GPU")
    assert failed.note == "exit status 1: boom"


def test_the_table_shows_titles_with_size_values_targets_and_verdicts(rows: list[Row]) -> None:
    text = format_table(rows, mode="quick", machine_info=MACHINE, seconds=61.4)
    lines = text.splitlines()
    assert lines[0] == "seisproc benchmarks, quick run, 61 s"
    assert lines[1] == ("machine: AMD EPYC, 2 CPUs (virtual machine), 23.5 GiB, "
                        "Linux-6.18-x86_64, Python 3.11.7, Ray 2.60.0, no GPU; "
                        "load average 1.5 at the start, 2.25 at the end")
    loaded = next(line for line in lines if "p99 under 20 running jobs" in line)
    assert "250 ms" in loaded and "< 2,000 ms" in loaded and "< 200 ms" in loaded
    assert loaded.endswith("pass  FAIL")
    assert "cancellation latency (5 cancels each)" in text
    assert "processing vs I/O ceiling (192,000 traces)" in text
    assert "job history at scale (1,000,000 jobs)" in text
    assert ">= 0.5x" in text and "26,727 traces/s" in text
    assert lines[-1].startswith("4 of 7 figures meet our target, 4 of 4 the seed plan's; "
                                "9 not measured.")  # the canned history lacks 2 figures
    assert sum(line.startswith("cancellation latency") for line in lines) == 1  # grouped


def test_the_markdown_table_is_one_row_per_figure_under_the_machine(rows: list[Row]) -> None:
    text = format_markdown(rows, mode="full", machine_info=MACHINE)
    lines = text.splitlines()
    assert lines[0].startswith("Measured with `python -m benchmarks --full` on AMD EPYC, ")
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| benchmark | figure | measured | seed target | our target | seed | ours |"
    assert len(table) == 2 + len(rows)
    assert all(line.count(" | ") == 6 for line in table[2:])
    assert "| GPU worker | (not measured) | no GPU | - | - | - | - |" in table


@pytest.mark.parametrize(("value", "unit", "text"), [
    (42.7712, "ms", "42.8 ms"), (0.2131, "% of a core", "0.213 % of a core"),
    (26727.4, "traces/s", "26,727 traces/s"), (0.9, "x", "0.9x"), (2000, "ms", "2,000 ms"),
    (5, "ms", "5 ms")])
def test_values_keep_three_significant_figures(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_a_report_is_found_after_stray_output_and_garbage_is_refused() -> None:
    assert parse_report('2026 made survey\n{"a": {"b": 1}}\n') == {"a": {"b": 1}}
    with pytest.raises(ValueError, match="no JSON report"):
        parse_report("Traceback ...")
    with pytest.raises(ValueError, match="not JSON"):
        parse_report("{'a': 1}")


def test_unknown_benchmark_names_are_refused() -> None:
    with pytest.raises(SystemExit, match="unknown benchmark"):
        select(["job_throughput", "jobs_throughput"], [])
    assert [b.name for b in select([], ["gpu_throughput", "ray_vs_pool"])] == [
        b.name for b in BENCHMARKS if b.name not in ("gpu_throughput", "ray_vs_pool")]


def test_a_script_that_fails_is_an_error_row_with_its_last_words(tmp_path: Path) -> None:
    missing = Benchmark("no_such_benchmark", "nothing", ())
    run = run_benchmark(missing, full=False, bench_dir=tmp_path, log_dir=tmp_path,
                              timeout_s=60)
    assert run.status == "error" and run.report is None
    assert "exit status 1" in run.reason and "No module named" in run.reason


def test_saved_results_render_again_and_a_later_run_replaces_an_earlier_one(
        tmp_path: Path) -> None:
    whole, rerun = tmp_path / "whole.json", tmp_path / "rerun.json"
    whole.write_text(json.dumps(document(CANNED, [], mode="full", seconds=600.0,
                                         machine_info=MACHINE)))
    fixed = {"job_throughput": BenchmarkRun("job_throughput", "ok", 12.0, report={
        "batch": {"jobs": 100, "jobs_per_s": 43.8}})}
    rerun.write_text(json.dumps(document(fixed, [], mode="full", seconds=12.0,
                                         machine_info=MACHINE)))
    table_md = tmp_path / "table.md"

    assert main(["--render", str(whole), "--markdown", str(table_md)]) == 1  # an error row
    assert "| job throughput | (not measured) | exit status 1: boom |" in table_md.read_text()
    assert main(["--render", str(whole), str(rerun), "--markdown", str(table_md)]) == 0
    text = table_md.read_text()
    assert "| job throughput (100 jobs) | small jobs completed per second | 43.8 jobs/s |" in text
    assert "| GPU worker | (not measured) | no GPU |" in text
    assert text.startswith("Measured with `python -m benchmarks --full` on AMD EPYC")


@pytest.mark.slow
def test_the_cheapest_benchmark_runs_through_the_suite(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """``python -m benchmarks --only monitor_overhead``: the script in its own process, its
    figures in the table, the JSON and the Markdown written."""
    out = tmp_path / "results" / "latest.json"
    status = main(["--only", "monitor_overhead", "--json", str(out),
                         "--markdown", str(tmp_path / "table.md")])
    assert status == 0
    doc = json.loads(out.read_text())
    assert doc["mode"] == "quick" and doc["benchmarks"]["monitor_overhead"]["status"] == "ok"
    assert doc["benchmarks"]["monitor_overhead"]["report"]["quick"] is True
    figures = {f["figure"]: f for f in doc["figures"]}
    cpu = figures["CPU at 1 Hz, 20 jobs watched"]
    assert 0 < cpu["measured"] < 100 and cpu["ours"] == 1
    assert figures["snapshot to alert action p99"]["measured"] > 0
    assert "CPU at 1 Hz, 20 jobs watched" in capsys.readouterr().out
    assert "| resource monitor | CPU at 1 Hz" in (tmp_path / "table.md").read_text()
    assert (tmp_path / "results" / "logs" / "monitor_overhead.log").exists()
