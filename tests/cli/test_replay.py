"""``seisproc replay``, ``show`` and ``diff``, as a user runs them (real processes, a real
Ray cluster): a replay is byte-identical and ``diff`` says so; a changed input is refused
in one line; two runs that differ in one parameter are told apart by that parameter."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from job_helpers import seisproc, store

from seisproc.jobs.model import Job

FLOW = """\
name: agc
input: shots.sgy
output: {output}
gather_by: ffid
steps:
  - bandpass: {{f1: 5, f2: 10, f3: 60, f4: 80}}
  - agc: {{window_ms: {window}}}
"""


def run_flow(env: dict[str, str], folder: Path, output: str, window: int = 500) -> Job:
    flow = folder / f"{Path(output).stem}.yaml"
    flow.write_text(FLOW.format(output=output, window=window))
    ran = seisproc(env, "run", str(flow))
    assert ran.returncode == 0, ran.stderr
    return latest(env)


def latest(env: dict[str, str]) -> Job:
    history = store(env)
    try:
        return history.get_recent(1)[0]
    finally:
        history.close()


def project(small_survey: Path, tmp_path: Path) -> Path:
    shutil.copy(small_survey, tmp_path / "shots.sgy")
    return tmp_path


def test_replay_is_byte_identical_and_diff_says_identical(
    small_survey: Path, tmp_path: Path, cli_env: dict
) -> None:
    folder = project(small_survey, tmp_path)
    original = run_flow(cli_env, folder, "a.sgy")
    replayed = seisproc(cli_env, "replay", original.id, "--output", str(folder / "again.sgy"))
    assert replayed.returncode == 0, replayed.stderr
    assert (folder / "again.sgy").read_bytes() == (folder / "a.sgy").read_bytes()
    replay = latest(cli_env)
    assert (
        replay.provenance["replay_of"] == original.id
        and replay.flow["steps"] == original.flow["steps"]
    )

    diff = seisproc(cli_env, "diff", original.id, replay.id)
    assert diff.returncode == 0, diff.stderr
    assert "flow: the same steps and parameters" in diff.stdout
    assert "environment: the same" in diff.stdout
    assert "input: the same file, unchanged" in diff.stdout
    assert "outputs identical (6 gathers, every byte the same)" in diff.stdout

    shown = seisproc(cli_env, "show", original.id)
    for line in (
        "  packages:",
        "    numpy: ",
        "    segyio: ",
        "  device:",
        "    requested: auto",
        f"    size: {(folder / 'shots.sgy').stat().st_size}",
        "    traces_sha256: ",
        "  - agc:",
        "QUEUED -> RUNNING",
    ):
        assert line in shown.stdout, line


def test_replay_after_the_input_is_rewritten_is_refused_then_forced_and_recorded(
    small_survey: Path, tmp_path: Path, cli_env: dict
) -> None:
    folder = project(small_survey, tmp_path)
    original = run_flow(cli_env, folder, "a.sgy")
    shots = folder / "shots.sgy"
    shots.write_bytes(shots.read_bytes())  # rewritten in place: same bytes, a new time
    os.utime(shots, ns=(original.provenance["input"]["mtime_ns"] + 5 * 10**9,) * 2)

    refused = seisproc(cli_env, "replay", original.id)
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith(
        f"error: job {original.id}: cannot replay: the input {shots} "
        "changed since the job started (same size, modified "
    )
    assert line.endswith(f"replay anyway with: seisproc replay --force {original.id}")
    assert latest(cli_env).id == original.id  # nothing submitted

    forced = seisproc(cli_env, "replay", original.id, "--force")
    assert forced.returncode == 0, forced.stderr
    replay = latest(cli_env)
    assert replay.provenance["replay_of"] == original.id
    (change,) = replay.provenance["forced_changes"]
    assert change.startswith(f"the input {shots} changed since the job started")


def test_diff_of_runs_differing_in_the_agc_window_names_it_and_a_difference(
    small_survey: Path, tmp_path: Path, cli_env: dict
) -> None:
    folder = project(small_survey, tmp_path)
    a = run_flow(cli_env, folder, "a.sgy", window=500)
    b = run_flow(cli_env, folder, "b.sgy", window=250)
    diff = seisproc(cli_env, "diff", a.id, b.id, "--plot", str(folder / "diff.png"))
    assert diff.returncode == 0, diff.stderr
    lines = diff.stdout.splitlines()
    flow = lines[lines.index("flow:") + 1 : lines.index("flow:") + 3]
    assert flow[0] == "  step 2: agc.window_ms 500 -> 250" and not flow[1].startswith("  step")
    assert "outputs differ: 6 of 6 gathers' samples" in diff.stdout
    assert any(line.startswith("  ffid=") and "rms(A-B)/rms(A)" in line for line in lines)
    assert (folder / "diff.png").stat().st_size > 10_000

    files = seisproc(cli_env, "diff", str(folder / "a.sgy"), str(folder / "a.sgy"))
    assert "outputs identical" in files.stdout
