"""``seisproc panels`` as a user runs it: a real process on the cluster, a picture with a
column per value and a row per gather, the RMS of each panel in the terminal, and
nothing written when the request is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from job_helpers import seisproc

from seisproc.io import SurveyGeometry, synthesize_survey

FLOW = """\
name: agc-test
input: shots.sgy
output: never_written.sgy
gather_by: ffid
steps:
  - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
  - agc: {window_ms: 500}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    synthesize_survey(tmp_path / "shots.sgy", SurveyGeometry(shots=4, channels=24, samples=501))
    (tmp_path / "flow.yaml").write_text(FLOW)
    return tmp_path


def test_panels_draws_a_column_per_value_and_a_row_per_gather(
        project: Path, cli_env: dict[str, str]) -> None:
    import matplotlib.image

    out = project / "panels.png"
    done = seisproc(cli_env, "panels", str(project / "flow.yaml"), "--vary",
                    "agc.window_ms=100,500,1000", "--gathers", "1001,1003", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "3 of 3 values done" in done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines()
            if "agc.window_ms=" in line}
    assert list(rows) == ["agc.window_ms=100", "agc.window_ms=500", "agc.window_ms=1000"]
    rms = [[float(x) for x in re.findall(r"\d+\.\d+(?:e[-+]\d+)?", rows[k].split("│", 2)[2])]
           for k in rows]
    assert np.array(rms).shape == (3, 2) and len({row[0] for row in rms}) == 3
    picture = matplotlib.image.imread(out)
    height, width = picture.shape[:2]
    assert width > height  # three columns side by side, two rows
    assert not (project / "never_written.sgy").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_panels_refuses_to_replace_a_picture_unless_asked(project: Path,
                                                          cli_env: dict[str, str]) -> None:
    out = project / "panels.png"
    out.write_bytes(b"mine")
    args = ["panels", str(project / "flow.yaml"), "--vary", "agc.window_ms=100,200",
            "--gathers", "1002", "--out", str(out)]
    refused = seisproc(cli_env, *args)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"error: {out}: already exists; use --overwrite to "
                                      "replace it")
    assert out.read_bytes() == b"mine"
    assert seisproc(cli_env, *args, "--overwrite").returncode == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("args", "says"), [
    (["--vary", "agc.window_ms=100", "--gathers", "1001,9"],
     "no gather with ffid = 9 (the file's 4 gathers run from 1001 to 1004)"),
    (["--vary", "agc.win=100", "--gathers", "1001"], "agc has no parameter 'win'"),
    (["--vary", "bandpass.f4=100,300", "--gathers", "1001"], "above the Nyquist"),
    (["--vary", "agc.window_ms=100", "--gathers", "1001,x"], "'x' is not a whole number"),
])
def test_a_wrong_request_is_one_line_and_draws_nothing(project: Path, cli_env: dict[str, str],
                                                       args: list[str], says: str) -> None:
    refused = seisproc(cli_env, "panels", str(project / "flow.yaml"), *args, "--out",
                       str(project / "p.png"))
    assert refused.returncode == 1
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], refused.stderr
    assert not (project / "p.png").exists()
