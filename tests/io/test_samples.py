"""Sample formats, and IBM <-> float32 conversion checked bit for bit against segyio's C."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import segyio

from seisproc.errors import SegyFormatError
from seisproc.io.samples import (
    decode,
    encode,
    encode_into,
    float32_to_ibm,
    ibm_to_float32,
    sample_format,
)

F32 = np.finfo(np.float32)


def ibm_words_segyio_writes(values: np.ndarray, path: Path) -> np.ndarray:
    """The IBM words segyio.create stores for float32 ``values`` (one trace)."""
    spec = segyio.spec()
    spec.format, spec.samples, spec.tracecount = 1, np.arange(len(values)), 1
    with segyio.create(path, spec) as f:
        f.trace[0] = np.array(values, dtype=np.float32)  # a copy: segyio converts in place
    return np.frombuffer(path.read_bytes()[3840:], dtype=">u4").astype(np.uint32)


def float32_segyio_reads(words: np.ndarray, path: Path) -> np.ndarray:
    """What segyio decodes from a trace holding the IBM ``words``."""
    spec = segyio.spec()
    spec.format, spec.samples, spec.tracecount = 1, np.arange(len(words)), 1
    with segyio.create(path, spec) as f:
        f.trace[0] = np.zeros(len(words), dtype=np.float32)
    data = bytearray(path.read_bytes())
    data[3840:] = np.asarray(words, dtype=">u4").tobytes()
    path.write_bytes(bytes(data))
    with segyio.open(path, ignore_geometry=True) as f:
        return np.array(f.trace[0], dtype=np.float32)


def ibm_reference(word: int) -> np.float32:
    """The value an IBM word stands for, by definition, rounded to the nearest float32."""
    sign = -1.0 if word >> 31 else 1.0
    exponent, mantissa = (word >> 24) & 0x7F, word & 0xFFFFFF
    return np.float32(sign * math.ldexp(mantissa, 4 * (exponent - 64) - 24))


def floats_across_the_float32_range() -> np.ndarray:
    rng = np.random.default_rng(7)
    magnitudes = 10.0 ** rng.uniform(-37.5, 38.5, 20_000)
    random = (magnitudes * rng.choice([-1.0, 1.0], 20_000)).astype(np.float32)
    special = np.array([0.0, -0.0, 1.0, -1.0, 0.1, -0.1, np.pi, 123456.79, 1e-30, -1e-30,
                        1e30, -1e30, F32.tiny, -F32.tiny, F32.max, -F32.max, 2.0**-100,
                        16.0**20, 1 - 2.0**-24, np.inf, -np.inf], dtype=np.float32)
    return np.concatenate([special, random])


def test_float32_to_ibm_is_bit_exact_with_segyio_including_zeros_and_extremes(
        tmp_path: Path) -> None:
    values = floats_across_the_float32_range()
    expected = ibm_words_segyio_writes(values, tmp_path / "w.sgy")
    ours = float32_to_ibm(values)
    assert ours.dtype == np.uint32
    mismatch = np.flatnonzero(ours != expected)
    assert mismatch.size == 0, [(values[i], hex(ours[i]), hex(expected[i])) for i in mismatch[:5]]
    assert ours[1] == 0  # -0.0 is written as a plain zero, as segyio does


def normalized_ibm_words_float32_can_hold() -> np.ndarray:
    rng = np.random.default_rng(11)
    words = rng.integers(0, 2**32, 100_000, dtype=np.uint64).astype(np.uint32)
    exponent, lead = (words >> 24) & 0x7F, (words >> 20) & 0xF
    in_range = (exponent >= 0x22) & (exponent <= 0x60) & (lead != 0)
    special = np.array([0x00000000, 0x80000000, 0x41100000, 0xC1100000, 0x40199999,
                        0xC0199999, 0x21400000, 0xA1400000, 0x21FFFFFF, 0x60FFFFFF,
                        0xE0FFFFFF, 0x4110000F, 0x46FFFFFF], dtype=np.uint32)
    return np.concatenate([special, words[in_range]])


def test_ibm_to_float32_is_bit_exact_with_segyio_including_zeros_and_extremes(
        tmp_path: Path) -> None:
    words = normalized_ibm_words_float32_can_hold()
    expected = float32_segyio_reads(words, tmp_path / "r.sgy")
    ours = ibm_to_float32(words.astype(">u4"))
    assert ours.dtype == np.float32
    mismatch = np.flatnonzero(ours.view(np.uint32) != expected.view(np.uint32))
    assert mismatch.size == 0, [(hex(words[i]), ours[i], expected[i]) for i in mismatch[:5]]
    assert ours.view(np.uint32)[1] == 0  # IBM -0 reads as +0.0, as in segyio
    assert ours[9] == F32.max and ours[6] == F32.tiny


def test_ibm_beyond_float32_range_reads_as_infinity_without_a_warning() -> None:
    words = np.array([0x61100000, 0x611FFFFF, 0x7FFFFFFF, 0xFFFFFFFF], dtype=">u4")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = ibm_to_float32(words)
    np.testing.assert_array_equal(values, [np.inf, np.inf, np.inf, -np.inf])


def test_ibm_below_float32_normal_range_and_unnormalized_read_as_their_value() -> None:
    """Here segyio's table-driven conversion flushes or misreads; seisproc keeps the value."""
    words = [0x21100000, 0xA1300000, 0x20100000, 0x1E800000, 0x00000001, 0x40000001,
             0x41000001, 0x42012345, 0xC3000FFF]
    ours = ibm_to_float32(np.array(words, dtype=">u4"))
    expected = np.array([ibm_reference(w) for w in words], dtype=np.float32)
    np.testing.assert_array_equal(ours.view(np.uint32), expected.view(np.uint32))
    assert ours[0] > 0 and ours[5] == np.float32(2.0**-24)


def every_leading_pair_of_bytes(seed: int) -> np.ndarray:
    """IBM words with every value of their first two bytes (sign, exponent, the mantissa's
    leading byte), random last two, and the zeros segyio misreads (0x40000000)."""
    rng = np.random.default_rng(seed)
    first = np.arange(1 << 16, dtype=np.uint32) << 16
    words = first | rng.integers(0, 1 << 16, first.size, dtype=np.uint32)
    words[::7] &= 0xFF000000  # zero mantissas under every exponent
    return rng.permutation(words)


def ibm_by_definition(words: np.ndarray) -> np.ndarray:
    """IBM words (native uint32) by definition, in numpy float64, rounded once to float32."""
    words = words.astype(np.uint64)
    mantissa = (words & 0xFFFFFF).astype(np.float64)
    value = np.ldexp(mantissa, ((words >> 24) & 0x7F).astype(np.int32) * 4 - 280)
    value = np.where((words >> 31).astype(bool) & (mantissa != 0), -value, value)
    with np.errstate(over="ignore"):
        return value.astype(np.float32)


@pytest.mark.parametrize("order", [">u4", "<u4"])
def test_ibm_read_equals_the_definition_for_every_leading_pair_of_bytes(order: str) -> None:
    """Every sign, exponent and leading mantissa byte, in both byte orders: the words
    segyio's C code gets wrong (below float32's normal range, unnormalized, beyond it)
    read as their value, scattered among those it gets right."""
    words = every_leading_pair_of_bytes(5)
    ours = ibm_to_float32(words.astype(order))
    expected = ibm_by_definition(words)
    mismatch = np.flatnonzero(ours.view(np.uint32) != expected.view(np.uint32))
    assert mismatch.size == 0, [(hex(words[i]), ours[i], expected[i]) for i in mismatch[:5]]
    assert ibm_to_float32(np.array([0x40000000], dtype=order))[0] == 0  # segyio: 0.03125


@pytest.mark.parametrize("order", [">u4", "<u4"])
def test_ibm_converts_arrays_of_any_layout_as_their_contiguous_copy(order: str) -> None:
    """Transposed, reversed, 3-D and single words: the values do not depend on layout."""
    words = every_leading_pair_of_bytes(8)[: 6 * 40].reshape(6, 40).astype(order)
    values = ibm_by_definition(words.astype(np.uint32))
    for view in (words.T, words[::-1], words[:, ::3], words.reshape(2, 3, 40), words[2, 7]):
        got = ibm_to_float32(view)
        expected = ibm_by_definition(np.ascontiguousarray(view).astype(np.uint32))
        assert got.shape == np.shape(view)
        np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))
    finite = np.where(np.isfinite(values), values, np.float32(1.5))
    stored = np.zeros((40, 6), dtype=order)
    encode_into(stored.T, finite, sample_format(1))  # into a transposed (column) view
    np.testing.assert_array_equal(stored.T.astype(np.uint32), float32_to_ibm(finite))


def test_ibm_read_of_a_gather_inside_trace_records_converts_the_samples_only() -> None:
    """As a job reads: the samples field of whole records, a strided view."""
    words = every_leading_pair_of_bytes(6)[: 64 * 1000].reshape(64, 1000)
    records = np.zeros(64, dtype=[("header", "u1", 240), ("samples", ">u4", 1000)])
    records["header"] = 0xAB
    records["samples"] = words
    samples = decode(records["samples"], sample_format(1))
    assert samples.shape == (64, 1000) and samples.flags.c_contiguous
    np.testing.assert_array_equal(samples.view(np.uint32),
                                  ibm_by_definition(words).view(np.uint32))
    assert np.all(records["header"] == 0xAB)
    np.testing.assert_array_equal(records["samples"], words)  # the input is left as read


def test_ibm_round_trip_is_exact_for_values_with_at_most_21_significant_bits() -> None:
    rng = np.random.default_rng(3)
    values = (rng.integers(-2**20, 2**20, 10_000) * 2.0 ** rng.integers(-60, 60, 10_000))
    values = values.astype(np.float32)
    np.testing.assert_array_equal(ibm_to_float32(float32_to_ibm(values)), values)


def test_ibm_round_trip_of_any_float_loses_less_than_one_part_in_a_million() -> None:
    values = floats_across_the_float32_range()[:-2]  # finite ones
    back = ibm_to_float32(float32_to_ibm(values))
    np.testing.assert_allclose(back, values, rtol=2.0**-20, atol=0)
    assert np.all(np.abs(back) <= np.abs(values))  # IBM truncates towards zero


@pytest.mark.parametrize(("code", "itemsize", "is_float"), [
    (1, 4, True), (2, 4, False), (3, 2, False), (5, 4, True), (6, 8, True), (7, 3, False),
    (8, 1, False), (9, 8, False), (10, 4, False), (11, 2, False), (12, 8, False),
    (15, 3, False), (16, 1, False),
])
def test_supported_sample_formats(code: int, itemsize: int, is_float: bool) -> None:
    fmt = sample_format(code)
    assert (fmt.code, fmt.itemsize, fmt.is_float) == (code, itemsize, is_float)
    assert fmt.dtype("big").itemsize == fmt.dtype("little").itemsize == itemsize
    assert fmt.dtype("big").byteorder in (">", "|") and fmt.dtype("little").byteorder in "<|="


@pytest.mark.parametrize("code", [0, 4, 13, 14, 17])
def test_unsupported_format_code_names_the_code_and_the_supported_ones(code: int) -> None:
    with pytest.raises(SegyFormatError, match=f"format code {code} is not supported.*5 "):
        sample_format(code)


@pytest.mark.parametrize("endian", ["big", "little"])
def test_integer_formats_round_and_clip_on_encode(endian: str) -> None:
    samples = np.array([1.4, -2.6, 2.5, 40000.0, -40000.0], dtype=np.float32)
    raw = encode(samples, sample_format(3), endian)
    assert raw.dtype == np.dtype(("<" if endian == "little" else ">") + "i2")
    np.testing.assert_array_equal(raw, [1, -3, 2, 32767, -32768])
    np.testing.assert_array_equal(decode(raw, sample_format(3)), [1, -3, 2, 32767, -32768])


def test_ieee_encode_and_decode_are_exact_in_both_byte_orders() -> None:
    samples = floats_across_the_float32_range()
    for endian in ("big", "little"):
        raw = encode(samples, sample_format(5), endian)
        decoded = decode(raw, sample_format(5))
        assert decoded.dtype == np.float32
        np.testing.assert_array_equal(decoded.view(np.uint32), samples.view(np.uint32))


@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("code", [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16])
def test_encoding_into_a_records_field_stores_what_encode_returns(code: int, endian: str) -> None:
    fmt = sample_format(code)
    samples = np.array([[0.0, -0.0, 1.5, -2.5, 126.7, -1e6, 3e4, 7.25]], dtype=np.float32)
    records = np.zeros(1, dtype=[("header", "u1", 240), ("samples", fmt.dtype(endian), 8)])
    encode_into(records["samples"], samples, fmt)
    assert records["samples"].tobytes() == encode(samples, fmt, endian).tobytes()


def test_ibm_reads_and_writes_where_no_folder_can_hold_the_compiled_code() -> None:
    """A read-only install without a writable home: the conversions compile in the
    process, uncached, instead of failing every IBM read."""
    script = (
        "import numba.core.caching as caching\n"
        "caching.CacheImpl._locator_classes = []  # no writable folder anywhere\n"
        "import numpy as np\n"
        "from seisproc.io.samples import float32_to_ibm, ibm_to_float32\n"
        "words = float32_to_ibm(np.array([1.5, -0.25], np.float32)).astype('>u4')\n"
        "print(ibm_to_float32(words).tolist())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split("\n")[0] == "[1.5, -0.25]"
