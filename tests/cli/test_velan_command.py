"""``seisproc velan`` as a user runs it: a real process on the cluster, on a synthetic
line whose velocities are known; picks that match them, panels the desktop app opens,
and one line, with nothing written, for a request that cannot be met."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from job_helpers import seisproc

from seisproc.io import SurveyGeometry, open_segy, synthesize_survey
from seisproc.io.index import gather_index
from seisproc.io.synth_geology import LayeredEarth, synthesize_imaging_line
from seisproc.jobs.velan import VelanResult

GEOMETRY = SurveyGeometry(shots=40, channels=96, samples=451, dt_ms=4.0)
EARTH = LayeredEarth()  # what `seisproc synth --geology` makes: dip, diffractor, noise
SCAN = ["--vmin", "1500", "--vmax", "3000", "--vstep", "20"]


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_imaging_line(
        tmp_path_factory.mktemp("velan") / "line.sgy", GEOMETRY, earth=EARTH
    )


def _picks(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    with path.open(newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["cdp", "time_ms", "vrms_m_s"]
    picks = np.array(rows[1:], dtype=np.float64)
    return {
        int(cdp): (picks[picks[:, 0] == cdp, 1], picks[picks[:, 0] == cdp, 2])
        for cdp in np.unique(picks[:, 0])
    }


def test_auto_picks_are_within_3_percent_of_the_true_rms_velocities(
    line: Path, cli_env: dict[str, str]
) -> None:
    out = line.parent / "line_vel.csv"
    done = seisproc(
        cli_env, "velan", str(line), "--cdps", "60:140:40", *SCAN, "--auto", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "3 of 3 locations done" in done.stderr
    assert f"wrote {out}" in done.stdout
    picks = _picks(out)
    assert sorted(picks) == [60, 100, 140]
    for cdp, (times, velocities) in picks.items():
        assert np.all(np.diff(velocities) >= 0), f"CDP {cdp}: not monotone"
        at_reflectors = np.interp(EARTH.zero_offset_times_ms(), times, velocities)
        error = np.abs(at_reflectors / EARTH.rms_velocities_m_s() - 1)
        assert error.max() < 0.03, f"CDP {cdp}: {times} {velocities}"
    assert [p.name for p in line.parent.iterdir() if p.name.startswith(".")] == []


def test_an_existing_table_is_kept_unless_overwrite_is_given(
    line: Path, cli_env: dict[str, str]
) -> None:
    out = line.parent / "mine.csv"
    out.write_text("cdp,time_ms,vrms_m_s\n1,0,1500\n")
    args = ["velan", str(line), "--cdps", "100", *SCAN, "--auto", "--out", str(out)]
    refused = seisproc(cli_env, *args)
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"error: {out}: already exists; use --overwrite to replace it"
    assert out.read_text() == "cdp,time_ms,vrms_m_s\n1,0,1500\n"
    assert seisproc(cli_env, *args, "--overwrite").returncode == 0
    assert list(_picks(out)) == [100]


def test_without_auto_the_panels_are_written_beside_the_table_name(
    line: Path, cli_env: dict[str, str]
) -> None:
    done = seisproc(
        cli_env,
        "velan",
        str(line),
        "--cdps",
        "80,120",
        *SCAN,
        "--super",
        "3",
        "--out",
        str(line.parent / "panels.csv"),
    )
    assert done.returncode == 0, done.stderr
    assert not (line.parent / "panels.csv").exists()
    result = VelanResult.load(line.parent / "panels.npz")
    assert [loc.cdp for loc in result.locations] == [80, 120]
    assert result.request.input == line and result.request.super_cdps == 3
    assert result.velocities_m_s[[0, -1]].tolist() == [1500.0, 3000.0]
    assert result.times_ms.size == GEOMETRY.samples
    first = EARTH.zero_offset_times_ms()[0]
    with open_segy(line) as segy:
        index = gather_index(segy, "cdp", cache=False)
        fold = dict(zip(index.keys.tolist(), index.sizes().tolist(), strict=True))
    for loc in result.locations:
        assert loc.semblance.shape == (GEOMETRY.samples, 76)
        assert loc.traces == sum(fold[loc.cdp + k] for k in (-1, 0, 1))
        near = np.abs(result.times_ms - first) <= 12  # the first reflector's peak
        peak = np.unravel_index(np.argmax(loc.semblance[near]), loc.semblance[near].shape)
        assert result.velocities_m_s[peak[1]] == pytest.approx(EARTH.velocities_m_s[0], rel=0.03)
    assert "CDP" in done.stdout and "peak semblance" in done.stdout


@pytest.fixture(scope="module")
def cdp_less(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shot file whose trace headers carry no CDP numbers (bytes 21-24 zero)."""
    path = synthesize_survey(
        tmp_path_factory.mktemp("nocdp") / "shots.sgy",
        SurveyGeometry(shots=2, channels=12, samples=101),
    )
    trace_bytes = 240 + 101 * 4
    raw = np.memmap(path, dtype=np.uint8, mode="r+", offset=3600)
    headers = raw.reshape(-1, trace_bytes)
    headers[:, 20:24] = 0
    raw.flush()
    del raw, headers
    return path


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--cdps", "100:9000:100", *SCAN],
            "CDP 300 is outside the survey (its CDPs run from -47 to 204)",
        ),
        (
            ["--cdps", "100", "--vmin", "3000", "--vmax", "1500"],
            "velocity scan: need 0 < vmin < vmax and a step > 0; got vmin 3000, vmax 1500",
        ),
        (["--cdps", "100", *SCAN, "--super", "4"], "--super: 4 CDPs"),
        (["--cdps", "100:50:10", *SCAN], "--cdps: '100:50:10' is not FIRST:LAST:STEP"),
        (
            ["--cdps", "100", *SCAN, "--window-ms", "2"],
            "--window-ms: 2 ms is shorter than one sample of line.sgy (4 ms)",
        ),
    ],
)
def test_a_wrong_request_is_one_line_and_writes_nothing(
    line: Path, cli_env: dict[str, str], args: list[str], says: str
) -> None:
    out = line.parent / "refused.csv"
    refused = seisproc(cli_env, "velan", str(line), *args, "--auto", "--out", str(out))
    assert refused.returncode == 1
    errors = [text for text in refused.stderr.splitlines() if text.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], refused.stderr
    assert not out.exists()


def test_a_file_without_cdp_numbers_is_refused_in_one_line(
    cdp_less: Path, cli_env: dict[str, str]
) -> None:
    refused = seisproc(cli_env, "velan", str(cdp_less), "--cdps", "1:5:1", *SCAN)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {cdp_less}: every trace has cdp = 0: the file has no CDP numbers (trace "
        "header bytes 21-24), and velocity analysis gathers traces by CDP; set them from "
        "the geometry first"
    )
    assert not cdp_less.with_name("shots_vel.npz").exists()


def test_an_input_named_relative_to_the_shell_is_found_by_the_workers(
    line: Path, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The cluster's workers do not run in the user's folder: ``velan line.sgy`` must
    reach them as a full path (it read 'line.sgy: no such file' on a worker)."""
    import subprocess
    import sys

    out = tmp_path / "picked.csv"
    done = subprocess.run(
        [sys.executable, "-m", "seisproc", "velan", line.name, "--cdps", "100", *SCAN,
         "--auto", "--out", str(out)],
        env=cli_env, cwd=line.parent, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.exists()
