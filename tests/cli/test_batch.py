"""``seisproc run --each``: one job per input under one batch id, and the batch summary,
run as a user runs it (real processes, a real Ray cluster)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from job_helpers import seisproc, store, wait_for

from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.segy import open_segy
from seisproc.jobs.model import JobState

FLOW = """\
name: agc-lines
output: "{output}"
gather_by: ffid
steps:
  - agc: {{window_ms: 500}}
"""


def lines_project(tmp_path: Path, count: int = 12, output: str = "out/{stem}_agc.sgy") -> Path:
    """``count`` small lines in raw/ (line_05, if there is one, truncated mid-trace) and
    flow.yaml."""
    raw = tmp_path / "raw"
    raw.mkdir()
    first = synthesize_survey(
        raw / "line_01.sgy", SurveyGeometry(shots=3, channels=12, samples=126, dt_ms=4.0)
    )
    for n in range(2, count + 1):
        shutil.copy(first, raw / f"line_{n:02d}.sgy")
    with open_segy(first) as segy:
        cut = segy.layout.data_offset + 5 * segy.layout.trace_bytes + 100
    corrupt = raw / "line_05.sgy"
    if corrupt.exists():
        corrupt.write_bytes(corrupt.read_bytes()[:cut])
    (tmp_path / "out").mkdir()
    (tmp_path / "flow.yaml").write_text(FLOW.format(output=output))
    return tmp_path


def test_each_over_12_lines_with_one_corrupt_completes_11_and_names_the_failure(
    tmp_path: Path, cli_env: dict
) -> None:
    project = lines_project(tmp_path)
    ran = seisproc(
        cli_env, "run", str(project / "flow.yaml"), "--each", str(project / "raw" / "line_*.sgy")
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    history = store(cli_env)
    try:
        jobs = history.list_jobs()
    finally:
        history.close()
    (batch,) = {job.batch for job in jobs}
    states = sorted(job.state.value for job in jobs)
    assert states == ["COMPLETED"] * 11 + ["FAILED"]
    (failed,) = [job for job in jobs if job.state is JobState.FAILED]
    assert failed.input.endswith("line_05.sgy")
    summary = ran.stdout.splitlines()
    assert summary[0] == f"batch {batch}: 12 jobs: 11 COMPLETED, 1 FAILED"
    assert summary[1].startswith(f"  FAILED {failed.id} line_05.sgy: SegyFormatError: ")
    assert "do not hold a whole number of traces" in summary[1] and len(summary) == 2
    assert ran.stderr.strip().splitlines()[-1] == (
        f"error: batch {batch}: 1 of 12 jobs did not complete"
    )
    assert sorted(p.name for p in (project / "out").iterdir()) == [
        f"line_{n:02d}_agc.sgy" for n in range(1, 13) if n != 5
    ]
    assert all(job.provenance["input"]["path"] == job.input for job in jobs)

    again = seisproc(cli_env, "batch", batch)
    assert again.returncode == 0 and again.stdout.splitlines() == summary
    listed = seisproc(cli_env, "jobs", "--batch", batch, "--json")
    assert sorted(j["state"] for j in json.loads(listed.stdout)) == states


def test_an_unknown_template_field_is_one_line_and_submits_nothing(
    tmp_path: Path, cli_env: dict
) -> None:
    project = lines_project(tmp_path, count=2, output="out/{line}_agc.sgy")
    ran = seisproc(
        cli_env, "run", str(project / "flow.yaml"), "--each", str(project / "raw" / "*.sgy")
    )
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [
        f"error: {project / 'flow.yaml'}: output template 'out/{{line}}_agc.sgy' names "
        "unknown field {line} (known: {stem}, {name}, {date})"
    ]
    assert not (Path(cli_env["SEISPROC_HOME"]) / "job_history.db").exists() or _no_jobs(cli_env)


def test_a_pattern_matching_nothing_is_one_line_and_submits_nothing(
    tmp_path: Path, cli_env: dict
) -> None:
    project = lines_project(tmp_path, count=2)
    pattern = str(project / "raw" / "lines_*.sgy")
    ran = seisproc(cli_env, "run", str(project / "flow.yaml"), "--each", pattern)
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [
        f"error: --each {pattern!r}: the pattern matches no file (looked in {project / 'raw'})"
    ]
    assert not (Path(cli_env["SEISPROC_HOME"]) / "job_history.db").exists() or _no_jobs(cli_env)


def _no_jobs(env: dict[str, str]) -> bool:
    history = store(env)
    try:
        return history.list_jobs() == []
    finally:
        history.close()


def test_cancel_batch_cancels_every_unfinished_job_of_a_detached_batch(
    job_survey: Path, tmp_path: Path, cli_env: dict
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for n in (1, 2, 3):
        (raw / f"line_{n}.sgy").symlink_to(job_survey)
    slow = "".join("  - spiking_decon: {operator_ms: 400}\n" for _ in range(4))
    (tmp_path / "flow.yaml").write_text(
        FLOW.format(output="{stem}_out.sgy").replace("steps:\n", "steps:\n" + slow)
    )
    detached = seisproc(
        cli_env, "run", str(tmp_path / "flow.yaml"), "--each", str(raw / "*.sgy"), "--detach"
    )
    assert detached.returncode == 0, detached.stderr
    batch = detached.stdout.split()[1]
    wait_for(cli_env, lambda j: j.batch == batch and j.state is JobState.RUNNING)

    cancelled = seisproc(cli_env, "cancel", "--batch", batch)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.splitlines()[0] == f"batch {batch}: 3 jobs: 3 CANCELLED"
    assert not list(tmp_path.glob("*_out.sgy"))
