"""The integer sample formats SEG-Y rev 2 added (codes 7, 9-12, 15 and 16; rev 2.1's
table in section 5.3): each reads to float32, in either byte order, exactly where float32
holds the value and as the nearest float32 beyond 2**24; an output holds 4-byte IEEE floats
(format 5), with a warning where the input held integers float32 does not all hold. Files
are built byte by byte (tests/segy_bytes.py) and checked against values computed here with
Python integers, not against seisproc."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import segyio

from segy_bytes import N_TRACES, REV_2_1, pack_samples, segy_file
from seisproc.io import SegyWriter, create_output, open_segy
from seisproc.io.samples import decode, encode, sample_format
from seisproc.io.writer import output_file_header, output_layout

EDGES = {
    7: [-2**23, 2**23 - 1, -1, 0, 1, 123456, -654321, 2**22, -2**22 + 3, 7],
    9: [-2**63, 2**63 - 1, -1, 0, 1, 2**24, 2**24 + 1, -(2**24 + 3), 2**53 + 1, 10**18 + 7],
    10: [0, 2**32 - 1, 1, 2**24, 2**24 + 1, 2**31, 2**31 + 1, 123456789, 65535, 7],
    11: [0, 65535, 1, 32768, 32767, 255, 256, 1000, 40000, 7],
    12: [0, 2**64 - 1, 1, 2**24 + 1, 2**53 + 1, 2**63, 2**63 + 1, 10**19 + 3, 65535, 7],
    15: [0, 2**24 - 1, 1, 2**23, 2**23 - 1, 65536, 255, 256, 12345678, 42],
    16: [0, 255, 1, 127, 128, 200, 2, 3, 64, 7],
}
"""Each format's extremes and values either side of 2**24, where float32 stops holding
every integer."""
NAMES = {7: "3-byte signed integer", 9: "8-byte signed integer", 10: "4-byte unsigned integer",
         11: "2-byte unsigned integer", 12: "8-byte unsigned integer",
         15: "3-byte unsigned integer", 16: "1-byte unsigned integer"}
LOSSY = {9: "8-byte signed integers", 10: "4-byte unsigned integers",
         12: "8-byte unsigned integers"}


def integer_samples(code: int) -> np.ndarray:
    """N_TRACES traces of the format's edge values, rotated trace by trace (Python ints)."""
    return np.array([np.roll(np.array(EDGES[code], dtype=object), trace)
                     for trace in range(N_TRACES)], dtype=object)


def nearest_float32(value: int) -> np.float32:
    """The float32 nearest ``value``, ties to even, found with exact integer arithmetic
    (a float64 detour could round twice)."""
    guess = np.float32(float(value))
    candidates = [guess, np.nextafter(guess, np.float32(np.inf)),
                  np.nextafter(guess, np.float32(-np.inf))]
    return min(candidates, key=lambda c: (abs(int(c) - value), int(c.view(np.uint32)) & 1))


def expected_float32(samples: np.ndarray) -> np.ndarray:
    return np.array([[nearest_float32(v) for v in row] for row in samples], dtype=np.float32)


def rev2_file(tmp_path: Path, code: int, endian: str) -> Path:
    path = tmp_path / f"format{code}_{endian}.sgy"
    path.write_bytes(segy_file(endian=endian, format_code=code, revision=REV_2_1,
                               samples=integer_samples(code)))
    return path


@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("code", sorted(EDGES))
def test_each_rev_2_integer_format_reads_as_the_nearest_float32(
        tmp_path: Path, code: int, endian: str) -> None:
    path = rev2_file(tmp_path, code, endian)
    with open_segy(path) as segy:
        assert (segy.layout.format.code, segy.layout.format.name) == (code, NAMES[code])
        assert segy.layout.endian == endian
        scattered, _ = segy.read(np.array([5, 0, 3]))
        whole, _ = segy.read(np.arange(N_TRACES))
    expected = expected_float32(integer_samples(code))
    np.testing.assert_array_equal(whole, expected)
    np.testing.assert_array_equal(scattered, expected[[5, 0, 3]])
    read_exactly = [float(w) == v for w, v in zip(whole[0], EDGES[code], strict=True)]
    assert all(exact for exact, v in zip(read_exactly, EDGES[code], strict=True)
               if abs(v) <= 2**24)
    assert all(read_exactly) == (code not in LOSSY)  # 2**24 + 1 is not a float32


@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("code", sorted(EDGES))
def test_an_output_of_each_format_holds_ieee_floats_segyio_reads(
        tmp_path: Path, code: int, endian: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="seisproc.io.writer")
    source, output = rev2_file(tmp_path, code, endian), tmp_path / "out.sgy"
    with open_segy(source) as src:
        layout = output_layout(src.layout)
        create_output(output, output_file_header(src, ["SEISPROC TEST"]), layout)
        with SegyWriter(output, layout) as writer:
            samples, headers = src.read(np.arange(N_TRACES))
            writer.write(np.arange(N_TRACES), headers, samples)
    assert layout.format.code == 5
    warnings = [r.getMessage() for r in caplog.records]
    if code in LOSSY:
        assert warnings == [
            f"{source}: samples are {LOSSY[code]} (format {code}); the output's are 4-byte IEEE "
            "floats (format 5), as seisproc processes in 4-byte floats: integers beyond 2**24 "
            "(16,777,216) in magnitude were read as the nearest 4-byte float, to about 7 "
            "significant digits"]
    else:
        assert warnings == []
    with segyio.open(output, ignore_geometry=True, endian=endian) as out:
        assert out.bin[segyio.BinField.Format] == 5
        np.testing.assert_array_equal(out.trace.raw[:], expected_float32(integer_samples(code)))
    with open_segy(output) as out:
        assert out.layout.format.code == 5


@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("code", [7, 15])
def test_three_byte_samples_encode_to_the_bytes_struct_would_write(code: int, endian: str
                                                                   ) -> None:
    fmt = sample_format(code)
    values = np.array(EDGES[code], dtype=np.float32)  # all within 2**24: exact in float32
    raw = encode(values, fmt, endian)
    assert raw.tobytes() == pack_samples(np.array(EDGES[code]), code, endian)
    np.testing.assert_array_equal(decode(raw, fmt), values)


@pytest.mark.parametrize(("code", "low", "high"), [
    (7, -2**23, 2**23 - 1), (15, 0, 2**24 - 1), (2, -2**31, 2**31 - 128),
    (10, 0, 2**32 - 256), (9, -2**63, 2**63 - 2**39), (12, 0, 2**64 - 2**40)])
def test_integer_encoding_clips_to_the_largest_float32_inside_the_range(
        code: int, low: int, high: int) -> None:
    """float32(2**31 - 1) is 2**31, outside a 4-byte integer: the top is the float32 below."""
    fmt = sample_format(code)
    raw = encode(np.array([-1e30, 1e30, 2.6], dtype=np.float32), fmt, "big")
    assert [int(v) for v in decode(raw, fmt)] == [low, high, 3]
