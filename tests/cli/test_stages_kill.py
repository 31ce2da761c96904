"""A flow with stages killed (SIGKILL) in its second stage, in real processes on Ray:
``seisproc resume`` continues in that stage and the output is byte-identical to a run
that was never interrupted."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import segyio
from job_helpers import seisproc, start, wait_for

from seisproc.io.synth import SurveyGeometry
from seisproc.io.synth_geology import LayeredEarth, synthesize_imaging_line
from seisproc.jobs.model import JobState
from seisproc.processing.imaging import VelocityTable, write_velocity_table

S = JobState
GEOMETRY = SurveyGeometry(shots=40, channels=96, samples=451, dt_ms=4.0)
SHOT_UNITS = 10
"""Stage 1's units: 40 shots, 4 gathers a unit."""
FLOW = """\
name: line-stack
input: shots.sgy
output: {output}
stages:
  - gather_by: ffid
    steps:
      - bandpass: {{f1: 4, f2: 8, f3: 60, f4: 80}}
  - gather_by: cdp
    steps:
{slow}      - nmo: {{velocities: vel.csv, stretch_mute_percent: 30}}
      - stack: {{}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    earth = LayeredEarth(dipping=None, diffractor=None, noise=0.05)
    synthesize_imaging_line(tmp_path / "shots.sgy", GEOMETRY, earth)
    times = np.concatenate([[0.0], earth.zero_offset_times_ms()])
    vrms = np.concatenate([[earth.velocities_m_s[0]], earth.rms_velocities_m_s()])
    write_velocity_table(tmp_path / "vel.csv",
                         VelocityTable.from_picks(np.full(times.size, 1), times, vrms))
    slow = "      - spiking_decon: {operator_ms: 400}\n" * 3  # time to kill mid stage
    for name in ("out", "ref"):
        (tmp_path / f"{name}.yaml").write_text(FLOW.format(output=f"{name}.sgy", slow=slow))
    return tmp_path


def test_sigkill_mid_stage_two_resumes_in_stage_two_to_a_byte_identical_stack(
        project: Path, cli_env: dict) -> None:
    proc = start(cli_env, "run", str(project / "out.yaml"))
    job = wait_for(cli_env, lambda j: "stage 2" in j.message
                   and j.progress.units_done >= SHOT_UNITS + 2, timeout=180)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert not (project / "out.sgy").exists()
    assert list(project.glob(f".out.sgy.{job.id}.stage1.seisproc-intermediate"))
    resumed = seisproc(cli_env, "resume", job.id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    reference = seisproc(cli_env, "run", str(project / "ref.yaml"))
    assert reference.returncode == 0, reference.stdout + reference.stderr
    out, ref = project / "out.sgy", project / "ref.sgy"
    assert out.read_bytes()[3200:] == ref.read_bytes()[3200:]
    with segyio.open(out, ignore_geometry=True) as f:
        cdps = list(f.attributes(segyio.TraceField.CDP)[:])
        assert cdps == sorted(set(cdps))  # one trace per CDP, in order
    assert not list(project.glob(".out.sgy.*.seisproc-*"))
