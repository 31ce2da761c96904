"""Bad input is a SegyFormatError naming the file and the problem, never a bare segyio
RuntimeError, IndexError or numpy error."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from seisproc.errors import HeaderKeyError, SegyFormatError
from seisproc.io import open_segy

DATA = Path(__file__).resolve().parents[1] / "data"
VALID = (DATA / "ieee.sgy").read_bytes()  # 12 traces of 50 IEEE samples: 440 bytes each


def patched(data: bytes, byte: int, fmt: str, value: int) -> bytes:
    """``data`` with the big-endian word at 1-based ``byte`` set to ``value``."""
    out = bytearray(data)
    struct.pack_into(fmt, out, byte - 1, value)
    return bytes(out)


def no_sample_interval() -> bytes:
    data = patched(VALID, 3217, ">h", 0)
    return patched(data, 3600 + 117, ">h", 0)  # and the first trace header's


BAD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "text": (lambda: b"This is a field report, not seismic data.\n" * 120,
             "not a SEG-Y file"),
    "short": (lambda: VALID[:1000], "1000 bytes, shorter than the 3600-byte"),
    "empty": (lambda: b"", "0 bytes"),
    "headers-only": (lambda: VALID[:3600], "file headers but no traces"),
    "truncated": (lambda: VALID[: 3600 + 440 * 5 + 100], "truncated"),
    "sample-count-disagrees": (lambda: patched(VALID, 3221, ">H", 51),
                               "whole number of traces of 51 samples"),
    "zero-sample-count": (lambda: patched(VALID, 3221, ">H", 0), "0 samples per trace"),
    "unsupported-format": (lambda: patched(VALID, 3225, ">h", 4),
                           "format code (bytes 3225-3226) reads 4 in big-endian byte order "
                           "(4-byte fixed point with gain, obsolete in the standard); "
                           "expected one of"),
    "no-sample-interval": (no_sample_interval, "no usable sample interval: the binary header "
                           "(bytes 3217-3218) reads 0 and trace 0's header (bytes 117-118) "
                           "reads 0"),
    "zeros": (lambda: bytes(5000), "not a SEG-Y file"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_a_segy_format_error_naming_the_file(tmp_path: Path, case: str) -> None:
    make, phrase = BAD_FILES[case]
    path = tmp_path / f"{case}.sgy"
    path.write_bytes(make())
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert phrase in message, message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "missing.sgy"
    with pytest.raises(SegyFormatError, match=f"^{path}: no such file$"):
        open_segy(path)


def test_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(SegyFormatError, match=f"^{tmp_path}: is a folder"):
        open_segy(tmp_path)


@pytest.mark.parametrize("positions", [[12], [-1], [0, 5, 40], [11, 12]])
def test_reading_a_trace_out_of_range_names_the_file_and_the_trace(
        positions: list[int]) -> None:
    path = DATA / "ieee.sgy"
    bad = next(p for p in positions if not 0 <= p < 12)
    with open_segy(path) as segy, pytest.raises(SegyFormatError) as info:
        segy.read(np.array(positions))
    assert str(info.value) == (f"{path}: trace {bad} does not exist (the file has 12 traces, "
                               "numbered from 0)")


@pytest.mark.parametrize("position", [12, -1])
def test_a_trace_header_out_of_range_names_the_file(position: int) -> None:
    path = DATA / "ieee.sgy"
    with open_segy(path) as segy, pytest.raises(SegyFormatError, match=f"^{path}: trace"):
        segy.trace_header(position)


def test_an_unknown_header_key_on_a_file_is_a_header_key_error() -> None:
    with open_segy(DATA / "ieee.sgy") as segy, pytest.raises(HeaderKeyError, match="'fldrr'"):
        segy.header_values("fldrr")


def test_a_file_truncated_after_opening_is_reported_on_read(tmp_path: Path) -> None:
    path = tmp_path / "shrinks.sgy"
    path.write_bytes(VALID)
    with open_segy(path) as segy:
        path.write_bytes(VALID[: 3600 + 440 * 6])
        segy.read(np.arange(6))  # still there
        with pytest.raises(SegyFormatError, match=f"^{path}: short read at trace 6"):
            segy.read(np.arange(6, 12))
