"""A job on a SEG-Y file another tool wrote, with a line feed inside a card of its
textual header: the job completes with an output segyio opens, and every byte outside
the provenance cards and the samples is the input's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segyio

from segy_bytes import ascii_cards, ebcdic_cards, segy_file
from seisproc.jobs.model import JobState
from seisproc.processing.flow import Flow

HEADERS = {
    "ascii-0x0a": ascii_cards(c2=b"C 2 LINE ONE\nLINE TWO \xc9T\xc9\t"),
    "ebcdic-0x25": ebcdic_cards(c2="C 2 LINE ONE".encode("cp037") + b"\x25"),
}


@pytest.mark.parametrize("case", HEADERS)
def test_a_job_on_a_header_with_a_line_feed_in_a_card_writes_an_output_segyio_opens(
        tmp_path: Path, run_job, case: str) -> None:
    source = tmp_path / "foreign.sgy"
    source.write_bytes(segy_file(HEADERS[case]))
    flow = Flow.from_mapping({"name": "t", "input": str(source), "output": "out.sgy",
                              "gather_by": "ffid", "steps": [{"exp_gain": {"db_per_s": 12}}]},
                             tmp_path)
    job = run_job(flow)
    assert job.state is JobState.COMPLETED, job.error
    before, after = source.read_bytes(), flow.output.read_bytes()
    assert len(after) == len(before)
    assert after[: 30 * 80] == before[: 30 * 80]  # C1-C30
    assert after[38 * 80 : 3600] == before[38 * 80 : 3600]  # C39, C40, binary header
    with segyio.open(flow.output, ignore_geometry=True) as out, \
            segyio.open(source, ignore_geometry=True) as src:
        assert out.tracecount == src.tracecount == 6
        for i in range(6):
            assert out.header[i] == src.header[i]
        assert not np.array_equal(out.trace.raw[:], src.trace.raw[:])  # processed
