"""Trace-header keys: every name a user may type finds the right word of the SEG-Y header."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import segyio
import segyio.su.words as su_words

from seisproc.errors import HeaderKeyError
from seisproc.io.headers import (
    HeaderField,
    header_field,
    known_header_keys,
    read_column,
    write_column,
)

TRACE_FIELDS = list(segyio.TraceField.enums())
SU_TRACE_WORDS = {name: int(value) for name, value in vars(su_words).items()
                  if not name.startswith("_") and isinstance(value, int) and int(value) <= 240}


@pytest.mark.parametrize(("alias", "name", "byte", "size"), [
    ("ffid", "FieldRecord", 9, 4),
    ("shot", "FieldRecord", 9, 4),
    ("channel", "TraceNumber", 13, 4),
    ("cdp", "CDP", 21, 4),
    ("cmp", "CDP", 21, 4),
    ("offset", "offset", 37, 4),
    ("inline", "INLINE_3D", 189, 4),
    ("crossline", "CROSSLINE_3D", 193, 4),
    ("receiver_x", "GroupX", 81, 4),
])
def test_aliases_name_the_standard_words(alias: str, name: str, byte: int, size: int) -> None:
    assert header_field(alias) == HeaderField(name, byte, size)


@pytest.mark.parametrize(("su_name", "name"), [
    ("fldr", "FieldRecord"), ("tracf", "TraceNumber"), ("sx", "SourceX"), ("gx", "GroupX"),
    ("scalco", "SourceGroupScalar"), ("ns", "TRACE_SAMPLE_COUNT"),
    ("dt", "TRACE_SAMPLE_INTERVAL"), ("cdpx", "CDP_X"),
])
def test_seismic_unix_names_name_the_same_words_as_segyio(su_name: str, name: str) -> None:
    assert header_field(su_name) == header_field(name)
    assert header_field(su_name).byte == SU_TRACE_WORDS[su_name]


def test_every_seismic_unix_trace_word_is_known_at_its_byte() -> None:
    for su_name, byte in SU_TRACE_WORDS.items():
        assert header_field(su_name).byte == byte, su_name


@pytest.mark.parametrize("spelling", ["FieldRecord", "fieldrecord", "FIELDRECORD", " ffid ",
                                      "FFID", "Fldr"])
def test_names_are_case_insensitive(spelling: str) -> None:
    assert header_field(spelling).name == "FieldRecord"


def test_every_segyio_name_finds_its_own_byte_in_any_case() -> None:
    for field in TRACE_FIELDS:
        assert header_field(str(field)).byte == int(field)
        assert header_field(str(field).upper()).byte == int(field)


@pytest.mark.parametrize(("key", "name"), [(9, "FieldRecord"), ("9", "FieldRecord"),
                                           (189, "INLINE_3D"), ("115", "TRACE_SAMPLE_COUNT")])
def test_byte_numbers_name_the_field_starting_there(key: int | str, name: str) -> None:
    assert header_field(key).name == name


def test_a_byte_inside_a_field_is_refused() -> None:
    with pytest.raises(HeaderKeyError, match="no trace-header field starts at byte 10"):
        header_field(10)


@pytest.mark.parametrize(("typo", "suggestion"), [("fldrr", "fldr"), ("offest", "offset"),
                                                  ("chanel", "channel"), ("crosline", "crossline")])
def test_unknown_key_raises_header_key_error_suggesting_a_close_name(typo: str,
                                                                      suggestion: str) -> None:
    with pytest.raises(HeaderKeyError) as info:
        header_field(typo)
    message = str(info.value)
    assert repr(typo) in message
    assert "Did you mean" in message and suggestion in message.split("Did you mean")[1]


def test_unknown_key_with_nothing_close_still_lists_common_keys() -> None:
    with pytest.raises(HeaderKeyError, match="Common keys: ffid, channel, cdp, offset"):
        header_field("zzzzzz")


@pytest.mark.parametrize(("name", "byte", "size"), [
    ("TRACE_SEQUENCE_LINE", 1, 4), ("FieldRecord", 9, 4), ("TraceIdentificationCode", 29, 2),
    ("offset", 37, 4), ("ElevationScalar", 69, 2), ("SourceGroupScalar", 71, 2),
    ("SourceX", 73, 4), ("GroupY", 85, 4), ("DelayRecordingTime", 109, 2),
    ("TRACE_SAMPLE_COUNT", 115, 2), ("TRACE_SAMPLE_INTERVAL", 117, 2),
    ("YearDataRecorded", 157, 2), ("CDP_X", 181, 4), ("INLINE_3D", 189, 4),
    ("ShotPoint", 197, 4), ("ShotPointScalar", 201, 2),
])
def test_field_positions_and_widths_follow_seg_y_rev1(name: str, byte: int, size: int) -> None:
    assert header_field(name) == HeaderField(name, byte, size)


def test_every_segyio_field_has_the_width_segyio_writes(tmp_path: Path) -> None:
    """segyio writes -1 into each field in turn; the 0xFF bytes it sets are the width."""
    spec = segyio.spec()
    spec.format, spec.samples, spec.tracecount = 5, [0.0], len(TRACE_FIELDS)
    path = tmp_path / "widths.sgy"
    with segyio.create(path, spec) as f:
        for i, field in enumerate(TRACE_FIELDS):
            f.header[i] = {field: -1}
            f.trace[i] = np.zeros(1, dtype=np.float32)
    headers = np.frombuffer(path.read_bytes()[3600:], np.uint8).reshape(-1, 244)[:, :240]
    for i, field in enumerate(TRACE_FIELDS):
        set_bytes = np.flatnonzero(headers[i]) + 1
        ours = header_field(int(field))
        assert ours.size in (2, 4), field
        assert (ours.byte, ours.size) == (set_bytes[0], len(set_bytes)), field


def test_the_fields_tile_the_240_byte_header_without_gaps() -> None:
    fields = sorted({header_field(int(f)) for f in TRACE_FIELDS}, key=lambda f: f.byte)
    assert fields[0].byte == 1
    for before, after in zip(fields, fields[1:], strict=False):
        assert before.byte + before.size == after.byte
    assert fields[-1].byte + fields[-1].size == 241


def test_known_header_keys_are_sorted_lower_case_and_include_every_kind_of_name() -> None:
    keys = known_header_keys()
    assert keys == sorted(keys) and all(k == k.lower() for k in keys)
    assert {"ffid", "channel", "fldr", "tracf", "sx", "gx", "fieldrecord", "cdp_x"} <= set(keys)


@pytest.mark.parametrize("endian", ["big", "little"])
def test_write_then_read_column_round_trips_signed_words_in_the_file_byte_order(
        endian: str) -> None:
    headers = np.zeros((3, 240), dtype=np.uint8)
    scalar, offset = header_field("scalco"), header_field("offset")
    write_column(headers, scalar, np.array([-100, 0, 32767]), endian)
    write_column(headers, offset, np.array([-2_000_000, 25, 2**31 - 1]), endian)
    char = ">" if endian == "big" else "<"
    assert headers[0, 70:72].tobytes() == struct.pack(char + "h", -100)
    assert headers[0, 36:40].tobytes() == struct.pack(char + "i", -2_000_000)
    np.testing.assert_array_equal(read_column(headers, scalar, endian), [-100, 0, 32767])
    np.testing.assert_array_equal(read_column(headers, offset, endian),
                                  [-2_000_000, 25, 2**31 - 1])
    assert np.count_nonzero(headers[:, :36]) == 0  # nothing written outside the two words
