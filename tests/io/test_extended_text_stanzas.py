"""A variable number of extended textual headers (bytes 3505-3506 read -1): stanzas of
3200 bytes up to one that begins ``((SEG: EndText))``. seisproc finds the first trace
after that stanza, and an output carries the stanzas through as they are. Files are built
byte by byte (tests/segy_bytes.py): segyio 1.9 reads none of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segy_bytes import N_TRACES, REV_2_1, ascii_stanza, segy_file
from seisproc.errors import OutputError, SegyFormatError
from seisproc.io import SegyWriter, create_output, open_segy
from seisproc.io.writer import check_file_header, output_file_header, output_layout

STANZAS = (
    ascii_stanza("((SEG: Location Data ver 1.0))", "Stanza line 2 of the location data"),
    ascii_stanza("((SEG: Processing History))", "Two lines, the stanza's own"),
    ascii_stanza("((SEG: EndText))"),
)
EBCDIC_STANZAS = tuple(stanza.decode("ascii").encode("cp037") for stanza in STANZAS)
PROVENANCE_CARDS = slice(30 * 80, 38 * 80)


def variable_count_file(tmp_path: Path, stanzas: tuple[bytes, ...] = STANZAS,
                        endian: str = "big", revision: int = REV_2_1,
                        samples: np.ndarray | None = None) -> Path:
    path = tmp_path / f"variable_{endian}.sgy"
    path.write_bytes(segy_file(endian=endian, stanzas=stanzas, extended=-1, revision=revision,
                               samples=samples))
    return path


@pytest.mark.parametrize("stanzas", [STANZAS, EBCDIC_STANZAS], ids=["ascii", "ebcdic"])
@pytest.mark.parametrize("endian", ["big", "little"])
def test_a_count_of_minus_one_ends_at_the_endtext_stanza(
        tmp_path: Path, endian: str, stanzas: tuple[bytes, ...]) -> None:
    path = variable_count_file(tmp_path, stanzas, endian)
    raw = path.read_bytes()
    with open_segy(path) as segy:
        assert (segy.layout.data_offset, segy.layout.n_traces) == (3600 + 3 * 3200, N_TRACES)
        assert segy.file_header_bytes == raw[:13200]
        samples, _ = segy.read(np.arange(N_TRACES))
        np.testing.assert_array_equal(segy.header_values("tracl"), np.arange(1, 7))
    expected = np.arange(N_TRACES)[:, None] + np.arange(10) / 8.0
    np.testing.assert_array_equal(samples, expected.astype(np.float32))


@pytest.mark.parametrize("first", ["  ((SEG: EndText))", "((seg:endtext))", "((SEG: EndText)) x"])
def test_the_endtext_stanza_is_found_after_blanks_and_in_any_letter_case(
        tmp_path: Path, first: str) -> None:
    path = variable_count_file(tmp_path, (STANZAS[0], ascii_stanza(first)), revision=0x0100)
    with open_segy(path) as segy:
        assert segy.layout.data_offset == 3600 + 2 * 3200


def test_an_output_carries_the_stanzas_and_is_the_input_outside_the_provenance_cards(
        tmp_path: Path) -> None:
    source, output = variable_count_file(tmp_path), tmp_path / "out.sgy"
    with open_segy(source) as src:
        layout = output_layout(src.layout)
        create_output(output, output_file_header(src, ["SEISPROC PASS-THROUGH"]), layout)
        with SegyWriter(output, layout) as writer:
            samples, headers = src.read(np.arange(N_TRACES))
            writer.write(np.arange(N_TRACES), headers, samples)
    before, after = source.read_bytes(), output.read_bytes()
    assert after[:PROVENANCE_CARDS.start] + after[PROVENANCE_CARDS.stop:] == \
        before[:PROVENANCE_CARDS.start] + before[PROVENANCE_CARDS.stop:]
    with open_segy(output) as out:
        assert out.layout == layout
        assert out.binary_header()["ExtendedHeaders"] == -1


def test_no_endtext_stanza_before_the_traces_is_refused_saying_where_the_scan_stopped(
        tmp_path: Path) -> None:
    long_traces = np.linspace(-1.0, 1.0, N_TRACES * 500).reshape(N_TRACES, 500)
    path = variable_count_file(tmp_path, STANZAS[:2], samples=long_traces)
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value) == (
        f"{path}: the binary header gives a variable number of extended textual headers (-1 at "
        "bytes 3505-3506), which must end with a stanza that begins ((SEG: EndText)); none is "
        "among the 2 stanzas before byte 10000, where the next 3200 bytes are not text")


def test_no_endtext_stanza_before_the_end_of_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "headers_only.sgy"
    path.write_bytes(segy_file(stanzas=STANZAS[:2], extended=-1)[:3600 + 2 * 3200 + 100])
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value).endswith(
        "none is among the 2 stanzas before byte 10000, where the file ends")


def test_an_output_header_whose_stanzas_lack_the_endtext_one_is_refused(tmp_path: Path) -> None:
    partial = tmp_path / ".out.sgy.partial"
    with open_segy(variable_count_file(tmp_path)) as src:
        header, layout = src.file_header_bytes, src.layout
    with pytest.raises(OutputError) as info:
        check_file_header(partial, header[:-3200], layout)
    assert str(info.value) == (
        f"{partial}: the binary header gives a variable number of extended textual headers (-1 "
        "at bytes 3505-3506), which must end with a stanza that begins ((SEG: EndText)); none "
        "is among the 2 stanzas before byte 10000, where the output's file headers end: "
        "nothing was written")
    with pytest.raises(OutputError, match="with a variable number of extended textual headers "
                                          r"\(-1\) up to the EndText stanza both must be 13200"):
        check_file_header(partial, header + STANZAS[0], layout)
    assert not partial.exists()
