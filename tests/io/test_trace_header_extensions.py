"""SEG-Y rev 2 trace-header extensions (binary header bytes 3507-3510): each trace is
240 * (1 + n) header bytes and its samples. seisproc reads the standard header from the
first 240 bytes and carries the extensions through to an output, byte for byte, with the
binary header that declares them. Files are built byte by byte (tests/segy_bytes.py):
segyio 1.9 cannot read them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from segy_bytes import N_SAMPLES, N_TRACES, REV_1, REV_2_1, extension_bytes, segy_file
from seisproc.errors import OutputError, SegyFormatError
from seisproc.io import SegyWriter, create_output, open_segy
from seisproc.io.writer import check_file_header, output_file_header, output_layout

PROVENANCE_CARDS = slice(30 * 80, 38 * 80)
SAMPLES = np.arange(N_TRACES * N_SAMPLES, dtype=np.float64).reshape(N_TRACES, N_SAMPLES) * 0.25
TRACE_BYTES = 3 * 240 + 4 * N_SAMPLES


def rev2_file(tmp_path: Path, endian: str = "big", **kwargs: object) -> Path:
    path = tmp_path / f"rev2_{endian}.sgy"
    options = {"revision": REV_2_1, "extensions": 2, "samples": SAMPLES} | kwargs
    path.write_bytes(segy_file(endian=endian, **options))  # type: ignore[arg-type]
    return path


def without_provenance(data: bytes) -> bytes:
    return data[: PROVENANCE_CARDS.start] + data[PROVENANCE_CARDS.stop :]


def copy_through_seisproc(source: Path, output: Path) -> None:
    """What a job whose steps change nothing does: the output's file headers, its layout,
    and every trace read and written back."""
    with open_segy(source) as src:
        layout = output_layout(src.layout)
        create_output(output, output_file_header(src, ["SEISPROC PASS-THROUGH"]), layout)
        with SegyWriter(output, layout) as writer:
            for positions in (np.array([4, 1]), np.array([0]), np.array([2, 3, 5])):
                samples, headers = src.read(positions)
                writer.write(positions, headers, samples)


@pytest.mark.parametrize("endian", ["big", "little"])
def test_a_rev_2_1_file_with_two_extensions_reads_its_samples_and_standard_headers(
        tmp_path: Path, endian: str) -> None:
    path = rev2_file(tmp_path, endian)
    raw = path.read_bytes()
    with open_segy(path) as segy:
        lay = segy.layout
        assert (lay.trace_header_extensions, lay.n_traces, lay.data_offset) == (2, 6, 3600)
        assert lay.trace_bytes == TRACE_BYTES
        samples, headers = segy.read(np.array([5, 0, 3]))
        np.testing.assert_array_equal(segy.header_values("ffid"), [1, 1, 1, 2, 2, 2])
        np.testing.assert_array_equal(segy.header_values("tracf"), np.arange(1, 7))
        assert segy.trace_header(4)["TRACE_SAMPLE_COUNT"] == N_SAMPLES
        assert segy.binary_header()["MaxTraceHeaderExtensions"] == 2
        assert (segy.binary_header()["SEGYRevision"], segy.binary_header()["SEGYRevisionMinor"]) \
            == (2, 1)
    np.testing.assert_array_equal(samples, SAMPLES[[5, 0, 3]].astype(np.float32))
    assert headers.shape == (3, 720)
    for row, trace in zip(headers, (5, 0, 3), strict=True):
        start = 3600 + trace * TRACE_BYTES
        assert row.tobytes() == raw[start : start + 720]
        assert row[240:].tobytes() == extension_bytes(trace, 2, endian)


@pytest.mark.parametrize("endian", ["big", "little"])
def test_an_output_keeps_the_extensions_and_is_the_input_outside_the_provenance_cards(
        tmp_path: Path, endian: str) -> None:
    source, output = rev2_file(tmp_path, endian), tmp_path / "out.sgy"
    copy_through_seisproc(source, output)
    before, after = source.read_bytes(), output.read_bytes()
    assert len(after) == len(before)
    assert without_provenance(after) == without_provenance(before)
    assert after[PROVENANCE_CARDS].startswith(b"C31 SEISPROC PASS-THROUGH")
    with open_segy(output) as out, open_segy(source) as src:
        assert out.layout == src.layout
        np.testing.assert_array_equal(out.read(np.arange(6))[0], src.read(np.arange(6))[0])


def test_extension_counts_are_read_only_from_rev_2_files(tmp_path: Path) -> None:
    """Rev 0 and rev 1 leave bytes 3507-3510 unassigned: what is there is not a count."""
    path = tmp_path / "rev1.sgy"
    data = bytearray(segy_file(revision=REV_1))
    struct.pack_into(">i", data, 3506, 2)
    path.write_bytes(bytes(data))
    with open_segy(path) as segy:
        assert (segy.layout.trace_header_extensions, segy.layout.n_traces) == (0, 6)
        assert segy.binary_header()["MaxTraceHeaderExtensions"] == 0


@pytest.mark.parametrize("endian", ["big", "little"])
def test_a_revision_written_as_two_bytes_in_a_little_or_big_endian_file_is_read(
        tmp_path: Path, endian: str) -> None:
    """Rev 2 defines bytes 3501 and 3502 as the major and minor revision; a little-endian
    writer of one 2-byte word puts them the other way round. Both read as rev 2.1."""
    path = rev2_file(tmp_path, endian)
    data = bytearray(path.read_bytes())
    data[3500:3502] = b"\x02\x01"
    path.write_bytes(bytes(data))
    with open_segy(path) as segy:
        assert segy.layout.trace_header_extensions == 2
        assert segy.binary_header()["SEGYRevisionMinor"] == 1


def test_traces_that_do_not_fit_the_declared_extensions_are_refused_saying_so(
        tmp_path: Path) -> None:
    path = tmp_path / "one_extension_declared.sgy"
    data = bytearray(segy_file(revision=REV_2_1, extensions=2, samples=SAMPLES))
    struct.pack_into(">i", data, 3506, 1)
    path.write_bytes(bytes(data))
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value) == (
        f"{path}: {6 * TRACE_BYTES} bytes of trace data do not hold a whole number of traces "
        f"of 10 samples (520 bytes each, 4-byte IEEE float, after a 240-byte trace header "
        "and 1 trace-header extensions of 240 bytes (bytes 3507-3510)): the file is truncated "
        "or the sample count in the binary header (bytes 3221-3222) is wrong")


def test_a_negative_extension_count_is_refused_with_its_value(tmp_path: Path) -> None:
    path = rev2_file(tmp_path, extensions=0)
    data = bytearray(path.read_bytes())
    struct.pack_into(">i", data, 3506, -3)
    path.write_bytes(bytes(data))
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value) == (
        f"{path}: the binary header's count of trace-header extensions (bytes 3507-3510, "
        "SEG-Y rev 2) reads -3; a count is 0 or more")


@pytest.mark.parametrize(("offset", "readable"), [(3600, True), (6800, False)])
def test_a_rev_2_first_trace_offset_must_agree_with_the_file_headers(
        tmp_path: Path, offset: int, readable: bool) -> None:
    path = rev2_file(tmp_path, first_trace_offset=offset)
    if readable:
        with open_segy(path) as segy:
            assert segy.layout.data_offset == 3600
        return
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value) == (
        f"{path}: the binary header gives trace 0's byte offset (bytes 3521-3528, SEG-Y rev 2) "
        "as 6800, but its file headers end at byte 3600 (3600 bytes and 0 extended textual "
        "headers of 3200); seisproc reads files where the two agree")


def test_an_output_header_that_does_not_declare_the_traces_extensions_is_refused(
        tmp_path: Path) -> None:
    partial = tmp_path / ".out.sgy.partial"
    with open_segy(rev2_file(tmp_path)) as src:
        layout, header = output_layout(src.layout), bytearray(src.file_header_bytes)
    struct.pack_into(">H", header, 3500, REV_1)  # a rev 1 header: 3507-3510 is no count
    with pytest.raises(OutputError) as info:
        check_file_header(partial, bytes(header), layout)
    assert str(info.value) == (
        f"{partial}: the output's binary header gives 0 trace-header extensions (bytes "
        "3507-3510, read in SEG-Y rev 2 and later; this header is rev 1); its traces have 2: "
        "nothing was written")
    struct.pack_into(">H", header, 3500, REV_2_1)
    check_file_header(partial, bytes(header), layout)  # as the input's: accepted
