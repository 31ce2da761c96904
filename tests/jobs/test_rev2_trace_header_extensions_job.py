"""Jobs on SEG-Y rev 2.1 files that segyio 1.9 cannot open: two 240-byte trace-header
extensions per trace, and with them a variable number of extended textual headers ended by
an EndText stanza. A job whose step changes nothing writes the input's bytes but for the
provenance cards; a job that processes keeps every header byte, extensions included; both
outputs open again with seisproc."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segy_bytes import N_SAMPLES, N_TRACES, REV_2_1, ascii_stanza, segy_file
from seisproc.io import open_segy
from seisproc.jobs.model import JobState
from seisproc.processing.flow import Flow

SAMPLES = np.linspace(-3.0, 3.0, N_TRACES * N_SAMPLES).reshape(N_TRACES, N_SAMPLES)
STANZAS = (ascii_stanza("((SEG: Acquisition))", "Two extensions per trace"),
           ascii_stanza("((SEG: EndText))"))
FILES = {
    "two-extensions": {"extensions": 2},
    "two-extensions-and-endtext-stanzas": {"extensions": 2, "stanzas": STANZAS, "extended": -1},
}
PROVENANCE_CARDS = slice(30 * 80, 38 * 80)


def run_flow(tmp_path: Path, run_job, case: str, db_per_s: float) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    source = tmp_path / "rev2.sgy"
    source.write_bytes(segy_file(revision=REV_2_1, samples=SAMPLES, **FILES[case]))  # type: ignore[arg-type]
    flow = Flow.from_mapping({"name": "t", "input": str(source), "output": "out.sgy",
                              "gather_by": "ffid", "steps": [{"exp_gain": {"db_per_s": db_per_s}}]},
                             tmp_path)
    job = run_job(flow)
    assert job.state is JobState.COMPLETED, job.error
    return source, flow.output


@pytest.mark.parametrize("case", FILES)
def test_a_pass_through_job_writes_the_input_but_for_the_provenance_cards(
        tmp_path: Path, run_job, case: str) -> None:
    source, output = run_flow(tmp_path, run_job, case, db_per_s=0.0)  # a gain of exactly 1
    before, after = source.read_bytes(), output.read_bytes()
    assert len(after) == len(before)
    assert after[: PROVENANCE_CARDS.start] == before[: PROVENANCE_CARDS.start]
    assert after[PROVENANCE_CARDS.stop :] == before[PROVENANCE_CARDS.stop :]
    assert after[PROVENANCE_CARDS] != before[PROVENANCE_CARDS]  # the flow is recorded
    with open_segy(output) as out, open_segy(source) as src:
        assert out.layout == src.layout and out.layout.trace_header_extensions == 2
        np.testing.assert_array_equal(out.read(np.arange(N_TRACES))[0],
                                      SAMPLES.astype(np.float32))


@pytest.mark.parametrize("case", FILES)
def test_a_processing_job_keeps_every_header_byte_extensions_included(
        tmp_path: Path, run_job, case: str) -> None:
    source, output = run_flow(tmp_path, run_job, case, db_per_s=12.0)
    with open_segy(output) as out, open_segy(source) as src:
        assert out.layout == src.layout
        assert out.file_header_bytes[PROVENANCE_CARDS.stop :] == \
            src.file_header_bytes[PROVENANCE_CARDS.stop :]
        out_samples, out_headers = out.read(np.arange(N_TRACES))
        src_samples, src_headers = src.read(np.arange(N_TRACES))
    assert out_headers.shape == (N_TRACES, 720)
    np.testing.assert_array_equal(out_headers, src_headers)
    t_s = np.arange(N_SAMPLES) * 0.002
    np.testing.assert_allclose(out_samples, src_samples * 10 ** (12.0 * t_s / 20), rtol=1e-6)
    assert not np.array_equal(out_samples, src_samples)
