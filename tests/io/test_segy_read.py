"""Reading SEG-Y: every committed fixture reads exactly as segyio, an independent reader,
reads it (tests/data/make_fixtures.py made them with segyio.create)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segyio

from seisproc.io import open_segy

DATA = Path(__file__).resolve().parents[1] / "data"

# name: (format code, byte order, data offset); all hold 12 traces x 50 samples at 2 ms.
FIXTURES = {
    "ibm_rev0.sgy": (1, "big", 3600),
    "ibm_rev1.sgy": (1, "big", 3600),
    "ieee.sgy": (5, "big", 3600),
    "ieee_little.sgy": (5, "little", 3600),
    "int32.sgy": (2, "big", 3600),
    "int16.sgy": (3, "big", 3600),
    "int8.sgy": (8, "big", 3600),
    "ieee64.sgy": (6, "big", 3600),
    "unsorted_ffid.sgy": (5, "big", 3600),
    "extended_text.sgy": (5, "big", 6800),
    "ascii_text.sgy": (5, "big", 3600),
}
# Words of both widths, with negative values in each (offset, SourceGroupScalar).
HEADER_FIELDS = [
    segyio.TraceField.FieldRecord, segyio.TraceField.TraceNumber, segyio.TraceField.offset,
    segyio.TraceField.SourceX, segyio.TraceField.CDP_X, segyio.TraceField.SourceGroupScalar,
    segyio.TraceField.ElevationScalar, segyio.TraceField.TRACE_SAMPLE_COUNT,
    segyio.TraceField.TRACE_SAMPLE_INTERVAL,
]
SCATTERED = np.array([7, 0, 11, 3, 4, 3])
SAMPLE_BYTES = {1: 4, 2: 4, 3: 2, 5: 4, 6: 8, 8: 1}


def segyio_open(name: str):  # type: ignore[no-untyped-def]
    return segyio.open(DATA / name, ignore_geometry=True, endian=FIXTURES[name][1])


def raw_trace_headers(name: str, positions: np.ndarray) -> np.ndarray:
    """Trace headers cut straight out of the file's bytes."""
    code, _, offset = FIXTURES[name]
    trace_bytes = 240 + 50 * SAMPLE_BYTES[code]
    data = (DATA / name).read_bytes()
    return np.array([np.frombuffer(data, np.uint8, 240, offset + int(p) * trace_bytes)
                     for p in positions])


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_opens_with_the_layout_segyio_sees(name: str) -> None:
    code, endian, data_offset = FIXTURES[name]
    with open_segy(DATA / name) as segy, segyio_open(name) as f:
        lay = segy.layout
        assert (lay.n_traces, lay.n_samples, lay.sample_interval_ms) == (12, 50, 2.0)
        assert (lay.format.code, lay.endian, lay.data_offset) == (code, endian, data_offset)
        assert (lay.n_traces, lay.n_samples) == (f.tracecount, len(f.samples))
        assert lay.sample_interval_ms == segyio.tools.dt(f) / 1000.0
        assert lay.format.code == f.bin[segyio.BinField.Format]


@pytest.mark.parametrize("name", FIXTURES)
def test_read_at_scattered_positions_gives_segyio_samples_as_float32(name: str) -> None:
    with open_segy(DATA / name) as segy, segyio_open(name) as f:
        samples, _ = segy.read(SCATTERED)
        expected = np.stack([f.trace[int(p)] for p in SCATTERED]).astype(np.float32)
    assert samples.dtype == np.float32
    np.testing.assert_array_equal(samples, expected)


@pytest.mark.parametrize("name", FIXTURES)
def test_read_of_contiguous_positions_gives_segyio_samples(name: str) -> None:
    with open_segy(DATA / name) as segy, segyio_open(name) as f:
        middle, _ = segy.read(np.arange(4, 9))
        whole, _ = segy.read(np.arange(12))
        expected = f.trace.raw[:].astype(np.float32)
    np.testing.assert_array_equal(middle, expected[4:9])
    np.testing.assert_array_equal(whole, expected)


@pytest.mark.parametrize("name", FIXTURES)
def test_read_returns_the_trace_headers_byte_for_byte(name: str) -> None:
    with open_segy(DATA / name) as segy:
        _, scattered = segy.read(SCATTERED)
        _, contiguous = segy.read(np.arange(2, 10))
    assert scattered.dtype == np.uint8 and scattered.shape == (len(SCATTERED), 240)
    np.testing.assert_array_equal(scattered, raw_trace_headers(name, SCATTERED))
    np.testing.assert_array_equal(contiguous, raw_trace_headers(name, np.arange(2, 10)))


@pytest.mark.parametrize("name", ["ibm_rev0.sgy", "ieee_little.sgy", "extended_text.sgy"])
def test_trace_header_equals_segyio_header(name: str) -> None:
    with open_segy(DATA / name) as segy, segyio_open(name) as f:
        for position in (0, 5, 11):
            expected = {str(k): int(v) for k, v in f.header[position].items()}
            assert segy.trace_header(position) == expected


@pytest.mark.parametrize("name", FIXTURES)
def test_header_values_equal_segyio_attributes_for_2_and_4_byte_words(name: str) -> None:
    with open_segy(DATA / name) as segy, segyio_open(name) as f:
        for field in HEADER_FIELDS:
            values = segy.header_values(int(field))
            assert values.dtype == np.int64
            np.testing.assert_array_equal(values, f.attributes(field)[:], err_msg=str(field))
        assert segy.header_values("offset").min() < 0
        assert segy.header_values("scalco").min() < 0


def test_header_values_of_the_synthetic_survey_equal_segyio(small_survey: Path) -> None:
    with open_segy(small_survey) as segy, segyio.open(small_survey, ignore_geometry=True) as f:
        for key, field in (("ffid", segyio.TraceField.FieldRecord),
                           ("cdp", segyio.TraceField.CDP), ("gx", segyio.TraceField.GroupX)):
            np.testing.assert_array_equal(segy.header_values(key), f.attributes(field)[:])
        positions = np.array([143, 0, 70, 71, 72, 5])
        samples, _ = segy.read(positions)
        np.testing.assert_array_equal(samples, f.trace.raw[:][positions])


@pytest.mark.parametrize("name", ["ieee_little.sgy", "ibm_rev0.sgy", "extended_text.sgy"])
def test_binary_header_has_every_field_segyio_reads_with_its_value(name: str) -> None:
    with open_segy(DATA / name) as segy, segyio_open(name) as f:
        fields = segy.binary_header()
        expected = {str(k): int(v) for k, v in f.bin.items()}
    assert {key: fields[key] for key in expected} == expected
    rev2 = {"MaxTraceHeaderExtensions", "TimeBasis", "TraceCount", "FirstTraceOffset",
            "TrailerStanzas", "ByteOrderConstant", "ExtTraces"}
    assert set(fields) - set(expected) == rev2  # read as 0 before rev 2
    assert all(fields[key] == 0 for key in rev2)


def test_read_of_no_positions_gives_empty_arrays_of_the_right_shape() -> None:
    with open_segy(DATA / "ieee.sgy") as segy:
        samples, headers = segy.read(np.array([], dtype=np.int64))
    assert samples.shape == (0, 50) and headers.shape == (0, 240)


@pytest.mark.parametrize("name", ["ieee.sgy", "ibm_rev0.sgy", "ieee_little.sgy"])
def test_ebcdic_text_header_decodes_to_the_40_lines_segyio_reads(name: str) -> None:
    with open_segy(DATA / name) as segy, segyio_open(name) as f:
        lines = segy.text_header().split("\n")
        text = f.text[0].decode("ascii")
    assert (DATA / name).read_bytes()[0] == 0xC3  # 'C' in EBCDIC
    assert len(lines) == 40
    assert lines == [text[i : i + 80].rstrip() for i in range(0, 3200, 80)]
    assert lines[0] == f"C 1 SEISPROC TEST FIXTURE {name.upper()}"


def test_ascii_text_header_decodes_to_its_40_lines() -> None:
    with open_segy(DATA / "ascii_text.sgy") as segy:
        lines = segy.text_header().split("\n")
    assert (DATA / "ascii_text.sgy").read_bytes()[:1] == b"C"
    assert len(lines) == 40
    assert lines[:2] == ["C 1 ASCII TEXTUAL HEADER FIXTURE",
                         "C 2 WRITTEN BY SEGYIO, HEADER IN ASCII"]
    assert lines[39] == "C40"


def test_extended_textual_header_is_part_of_the_file_headers_not_the_traces() -> None:
    raw = (DATA / "extended_text.sgy").read_bytes()
    with open_segy(DATA / "extended_text.sgy") as segy, segyio_open("extended_text.sgy") as f:
        assert segy.file_header_bytes == raw[:6800]
        assert segy.text_header().split("\n")[0].startswith("C 1 SEISPROC TEST FIXTURE")
        assert f.text[1].decode("ascii").startswith("C 1 EXTENDED HEADER 1")
        np.testing.assert_array_equal(segy.header_values("ffid"),
                                      f.attributes(segyio.TraceField.FieldRecord)[:])
