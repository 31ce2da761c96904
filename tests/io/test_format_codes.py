"""Sample-format codes as a user meets them: a code seisproc does not read is quoted as
the file holds it, in the file's byte order; an 8-byte float input is written as 4-byte
floats, and seisproc says so."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import segyio

from segy_bytes import segy_file
from seisproc.errors import SegyFormatError
from seisproc.io import SegyWriter, create_output, open_segy
from seisproc.io.writer import output_file_header, output_layout

SUPPORTED = "expected one of (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16)"


@pytest.mark.parametrize("endian", ["big", "little"])
def test_an_unsupported_format_is_quoted_as_read_in_the_files_byte_order(
        tmp_path: Path, endian: str) -> None:
    code, name = 4, "4-byte fixed point with gain, obsolete in the standard"
    path = tmp_path / f"format{code}_{endian}.sgy"
    path.write_bytes(segy_file(endian=endian, format_code=code))
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value) == (
        f"{path}: unsupported sample format: the binary header's format code (bytes "
        f"3225-3226) reads {code} in {endian}-endian byte order ({name}); {SUPPORTED}")


def test_a_format_code_seg_y_does_not_define_is_quoted_both_ways(tmp_path: Path) -> None:
    path = tmp_path / "format13.sgy"
    path.write_bytes(segy_file(format_code=13))
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value) == (
        f"{path}: not a SEG-Y file, or an unsupported sample format: the binary header's "
        f"format code (bytes 3225-3226) reads 13 big-endian, 3328 little-endian; {SUPPORTED}")


def test_an_8_byte_float_input_is_written_as_4_byte_floats_and_the_user_is_told(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="seisproc.io.writer")
    source, output = tmp_path / "doubles.sgy", tmp_path / "out.sgy"
    source.write_bytes(segy_file(format_code=6))
    with open_segy(source) as src:
        layout = output_layout(src.layout)
        create_output(output, output_file_header(src, ["SEISPROC TEST"]), layout)
        with SegyWriter(output, layout) as writer:
            samples, headers = src.read(np.arange(6))
            writer.write(np.arange(6), headers, samples)
    assert [r.getMessage() for r in caplog.records] == [
        f"{source}: samples are 8-byte IEEE floats (format 6); the output's are 4-byte IEEE "
        "floats (format 5), as seisproc processes in 4-byte floats: about 7 significant "
        "digits are kept, magnitudes above 3.4e38 become infinite"]
    with segyio.open(output, ignore_geometry=True) as out, \
            segyio.open(source, ignore_geometry=True) as src_f:
        assert out.bin[segyio.BinField.Format] == 5
        assert out.tracecount == 6
        np.testing.assert_array_equal(out.trace.raw[:], src_f.trace.raw[:].astype(np.float32))


@pytest.mark.parametrize(("code", "warned"), [(2, True), (3, False), (8, False)])
def test_an_integer_input_is_written_as_ieee_floats_with_a_warning_only_where_float32_rounds(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, code: int, warned: bool) -> None:
    caplog.set_level(logging.WARNING, logger="seisproc.io.writer")
    source = tmp_path / f"format{code}.sgy"
    source.write_bytes(segy_file(format_code=code))
    with open_segy(source) as src:
        assert output_layout(src.layout).format.code == 5
        output_file_header(src, ["SEISPROC TEST"])
    expected = [
        f"{source}: samples are 4-byte signed integers (format 2); the output's are 4-byte "
        "IEEE floats (format 5), as seisproc processes in 4-byte floats: integers beyond "
        "2**24 (16,777,216) in magnitude were read as the nearest 4-byte float, to about 7 "
        "significant digits"]
    assert [r.getMessage() for r in caplog.records] == (expected if warned else [])
