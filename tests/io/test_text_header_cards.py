"""Textual headers others wrote: 40 fixed 80-byte cards, whatever bytes they hold. An
output keeps every byte of them but the provenance cards C31-C38, which are written in
the header's own encoding, and segyio opens it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segyio

from segy_bytes import ascii_cards, ebcdic_cards, segy_file
from seisproc.io import SegyWriter, create_output, open_segy
from seisproc.io.textheader import decode_text_header, stamp_provenance
from seisproc.io.writer import output_file_header, output_layout

PROVENANCE = ["SEISPROC TEST", "bandpass f1=5 f2=10 f3=60 f4=80"]
PROVENANCE_BYTES = slice(30 * 80, 38 * 80)  # cards C31-C38

HEADERS = {
    "ascii-line-feed": ascii_cards(c2=b"C 2 LINE ONE\nLINE TWO"),
    "ebcdic-0x25": ebcdic_cards(c2="C 2 LINE ONE".encode("cp037") + b"\x25"
                                + "LINE TWO".encode("cp037")),
    "ascii-latin-1-and-tabs": ascii_cards(c2=b"C 2 CLIENT: SOCI\xc9T\xc9 G\xc9N\xc9RALE\t\t",
                                          c3=b"C 3 \xb0 DEGR\xc9S, \xb5S\t"),
}


def processed_copy(source: Path, output: Path) -> None:
    """What a job does to its output, without processors: file headers with provenance,
    then every trace copied."""
    with open_segy(source) as src:
        layout = output_layout(src.layout)
        create_output(output, output_file_header(src, PROVENANCE), layout)
        with SegyWriter(output, layout) as writer:
            positions = np.arange(layout.n_traces)
            samples, headers = src.read(positions)
            writer.write(positions, headers, samples)


@pytest.mark.parametrize("case", HEADERS)
def test_an_output_keeps_every_byte_but_the_provenance_cards_and_segyio_opens_it(
        tmp_path: Path, case: str) -> None:
    source, output = tmp_path / "in.sgy", tmp_path / "out.sgy"
    source.write_bytes(segy_file(HEADERS[case]))
    processed_copy(source, output)
    before, after = source.read_bytes(), output.read_bytes()
    assert len(after) == len(before)
    assert after[: PROVENANCE_BYTES.start] == before[: PROVENANCE_BYTES.start]
    assert after[PROVENANCE_BYTES.stop :] == before[PROVENANCE_BYTES.stop :]
    with segyio.open(output, ignore_geometry=True) as out, \
            segyio.open(source, ignore_geometry=True) as src:
        assert out.tracecount == src.tracecount == 6
        np.testing.assert_array_equal(out.trace.raw[:], src.trace.raw[:])
        assert out.text[0][: PROVENANCE_BYTES.start] == src.text[0][: PROVENANCE_BYTES.start]
    with open_segy(output) as out:
        assert out.layout.n_traces == 6


@pytest.mark.parametrize(("case", "blank"), [("ascii-line-feed", b" "), ("ebcdic-0x25", b"\x40")])
def test_provenance_is_written_in_the_headers_own_encoding(case: str, blank: bytes) -> None:
    stamped = stamp_provenance(HEADERS[case], PROVENANCE)
    assert len(stamped) == 3200
    encoding = "cp037" if blank == b"\x40" else "ascii"
    assert stamped[30 * 80 : 31 * 80] == "C31 SEISPROC TEST".encode(encoding).ljust(80, blank)
    assert stamped[37 * 80 : 38 * 80] == "C38".encode(encoding).ljust(80, blank)


@pytest.mark.parametrize("case", ["ascii-line-feed", "ebcdic-0x25"])
def test_a_line_feed_inside_a_card_shows_as_a_space_in_the_40_lines(case: str) -> None:
    lines = decode_text_header(HEADERS[case]).split("\n")
    assert len(lines) == 40
    assert lines[1] == "C 2 LINE ONE LINE TWO"
    assert lines[2] == "C 3 CARD 3 WRITTEN BY ANOTHER TOOL"


def test_latin_1_letters_in_an_ascii_header_show_as_themselves() -> None:
    lines = decode_text_header(HEADERS["ascii-latin-1-and-tabs"]).split("\n")
    assert lines[1] == "C 2 CLIENT: SOCIÉTÉ GÉNÉRALE"
    assert lines[2] == "C 3 ° DEGRÉS, µS"


def test_a_header_that_is_not_3200_bytes_is_refused_not_stamped() -> None:
    with pytest.raises(ValueError, match="a textual header is 3200 bytes; got 3280"):
        stamp_provenance(ascii_cards() + b" " * 80, PROVENANCE)
