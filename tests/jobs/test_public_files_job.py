"""A job over each public SEG-Y file ObsPy ships (real field records, see
tests/io/test_public_files.py): a pass-through flow (0 dB/s of gain) completes, and its
output holds the input's samples and trace headers, readable by seisproc and by ObsPy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import obspy
import pytest

from seisproc.io import open_segy
from seisproc.jobs.model import JobState
from seisproc.processing.flow import Flow

DATA = Path(obspy.__file__).parent / "io" / "segy" / "tests" / "data"
PUBLIC = sorted(p.with_suffix("") for p in DATA.glob("*.npy")
                if p.with_suffix("").exists() and ".su" not in p.name)


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_a_pass_through_job_on_a_public_file_keeps_its_samples_and_headers(
        path: Path, tmp_path: Path, run_job) -> None:
    source = tmp_path / "input.sgy"
    source.write_bytes(path.read_bytes())
    flow = Flow.from_mapping({"name": "t", "input": str(source), "output": "out.sgy",
                              "gather_by": "ffid", "steps": [{"exp_gain": {"db_per_s": 0}}]},
                             tmp_path)
    job = run_job(flow)
    assert job.state is JobState.COMPLETED, job.error
    with open_segy(source) as before, open_segy(flow.output) as after:
        everything = np.arange(before.layout.n_traces)
        samples_in, headers_in = before.read(everything)
        samples_out, headers_out = after.read(everything)
    np.testing.assert_array_equal(samples_out, samples_in)
    np.testing.assert_array_equal(headers_out, headers_in)
    stream = obspy.read(str(flow.output), format="SEGY")
    np.testing.assert_array_equal(np.asarray(stream[0].data, dtype=np.float32), samples_in[0])
