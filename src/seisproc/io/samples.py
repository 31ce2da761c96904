"""Sample formats of SEG-Y traces and their conversion to and from float32.

IBM System/360 floats go through one compiled pass each way (:mod:`seisproc.io.ibm`,
numba), straight from and into trace records: exact by definition (segyio's C reader
misreads values below float32's normal range and unnormalized ones, and gives NaN for
those beyond float32, which read here as +-inf); writing matches segyio bit for bit for
every float32.

The integer formats of SEG-Y rev 2 read to float32 as well: 1-, 2- and 3-byte integers,
signed or not, exactly; 4- and 8-byte integers exactly up to 2**24 (16,777,216) in
magnitude and to the nearest float32 (about 7 significant digits) beyond. numpy has no
3-byte type, so a 3-byte sample is a two-field record, a 2-byte high part (signed for
format 7) and a low byte, laid out in the file's byte order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seisproc.errors import SegyFormatError

__all__ = ["SampleFormat", "sample_format", "decode", "encode", "encode_into",
           "ibm_to_float32", "float32_to_ibm", "IBM", "IEEE", "SUPPORTED_CODES"]

IBM = 1
IEEE = 5


@dataclass(frozen=True)
class SampleFormat:
    """One SEG-Y sample format code (binary header bytes 3225-3226)."""

    code: int
    name: str
    base: str
    """numpy type character and width without byte order, e.g. ``i2``, ``f4``."""

    @property
    def itemsize(self) -> int:
        return 3 if self.base in _THREE_BYTE else np.dtype(self.base).itemsize

    @property
    def is_float(self) -> bool:
        return self.code in (IBM, IEEE, 6)

    def dtype(self, endian: str) -> np.dtype:
        """One stored sample in ``endian`` order: a numpy scalar type, or for the 3-byte
        formats a record of ``high`` (2 bytes) and ``low`` (1 byte) in file order."""
        order = "<" if endian == "little" else ">"
        if self.base not in _THREE_BYTE:
            return np.dtype(order + self.base)
        high = order + ("i2" if self.base == "i3" else "u2")
        fields = [("high", high), ("low", "u1")]
        return np.dtype(fields if order == ">" else fields[::-1])


_THREE_BYTE = ("i3", "u3")
# The codes of SEG-Y rev 2.1's table (section 5.3, bytes 3225-3226) that map to float32;
# code 4 (4-byte fixed point with gain, obsolete) is the one seisproc does not read.
_FORMATS = {
    1: SampleFormat(1, "4-byte IBM float", "u4"),
    2: SampleFormat(2, "4-byte signed integer", "i4"),
    3: SampleFormat(3, "2-byte signed integer", "i2"),
    5: SampleFormat(5, "4-byte IEEE float", "f4"),
    6: SampleFormat(6, "8-byte IEEE float", "f8"),
    7: SampleFormat(7, "3-byte signed integer", "i3"),
    8: SampleFormat(8, "1-byte signed integer", "i1"),
    9: SampleFormat(9, "8-byte signed integer", "i8"),
    10: SampleFormat(10, "4-byte unsigned integer", "u4"),
    11: SampleFormat(11, "2-byte unsigned integer", "u2"),
    12: SampleFormat(12, "8-byte unsigned integer", "u8"),
    15: SampleFormat(15, "3-byte unsigned integer", "u3"),
    16: SampleFormat(16, "1-byte unsigned integer", "u1"),
}
SUPPORTED_CODES = tuple(_FORMATS)
"""Every sample-format code seisproc reads."""


def sample_format(code: int) -> SampleFormat:
    """The format for a binary-header code; unsupported codes are a clear error."""
    try:
        return _FORMATS[code]
    except KeyError:
        supported = ", ".join(f"{c} ({f.name})" for c, f in _FORMATS.items())
        raise SegyFormatError(
            f"sample format code {code} is not supported; supported codes: {supported}"
        ) from None


def decode(raw: np.ndarray, fmt: SampleFormat) -> np.ndarray:
    """Samples as stored (:meth:`SampleFormat.dtype`, any byte order) to native float32.

    Integers beyond 2**24 in magnitude (4- and 8-byte formats) read as the nearest
    float32.

    >>> decode(np.array([1, 2**24 + 1], dtype=">u8"), sample_format(12)).tolist()
    [1.0, 16777216.0]
    """
    if fmt.code == IBM:
        return ibm_to_float32(raw)
    if fmt.base in _THREE_BYTE:
        value: np.ndarray = raw["high"].astype(np.int32) * np.int32(256) + raw["low"]
        return value.astype(np.float32)
    return raw.astype(np.float32)


def encode_into(out: np.ndarray, samples: np.ndarray, fmt: SampleFormat) -> None:
    """Store float32 ``samples`` into ``out``, an array of ``fmt``'s stored type in the
    file's byte order (e.g. a records array's samples field): the assignment swaps
    bytes as it copies, so no encoded temporary is made (:func:`encode` is this into a
    new array). Integer formats get the nearest integer, clipped to their range."""
    if fmt.code == IBM:
        _encode_ibm_into(out, samples)
    elif fmt.is_float:
        out[...] = samples
    elif fmt.base in _THREE_BYTE:
        value = _rounded(samples, fmt).astype(np.int32)
        out["high"] = value >> 8  # arithmetic: the sign stays in the high part
        out["low"] = value & 0xFF
    else:
        out[...] = _rounded(samples, fmt)


def encode(samples: np.ndarray, fmt: SampleFormat, endian: str) -> np.ndarray:
    """float32 samples to the stored representation of ``fmt`` in ``endian`` order."""
    out = np.empty(np.shape(samples), dtype=fmt.dtype(endian))
    encode_into(out, np.asarray(samples), fmt)
    return out


def _rounded(samples: np.ndarray, fmt: SampleFormat) -> np.ndarray:
    """Samples rounded to the nearest integer and clipped to an integer format's range:
    to the largest float32 inside it, since float32(2**31 - 1) is 2**31, out of range."""
    low, high = _integer_range(fmt)
    top = np.float32(high)
    if int(top) > high:
        top = np.nextafter(top, np.float32(0))
    rounded: np.ndarray = np.clip(np.rint(samples), np.float32(low), top)
    return rounded


def _integer_range(fmt: SampleFormat) -> tuple[int, int]:
    if fmt.base == "i3":
        return -(2**23), 2**23 - 1
    if fmt.base == "u3":
        return 0, 2**24 - 1
    info = np.iinfo(fmt.base)
    return int(info.min), int(info.max)


def ibm_to_float32(words: np.ndarray) -> np.ndarray:
    """IBM single-precision words (uint32 of any byte order and any shape, e.g. a records
    array's samples field) to float32 of the same shape, in one compiled pass
    (:mod:`seisproc.io.ibm`). Beyond float32's range: +-inf; below its normal range and
    unnormalized: the nearest float32; IBM -0: +0.0."""
    from seisproc.io import ibm

    out = np.empty(words.shape, dtype=np.float32)
    rows = _rows(words)
    if rows is None:  # not rows of words in memory: a contiguous copy is
        rows = _rows(np.ascontiguousarray(words))
    assert rows is not None
    flat, stride = rows
    if out.size:
        ibm.decode_rows(flat, stride, _swaps(words), out.reshape(-1, _row_length(words)))
    return out


def _row_length(a: np.ndarray) -> int:
    return int(a.shape[-1]) if a.ndim else 1


def _swaps(a: np.ndarray) -> bool:
    """Whether ``a``'s words are in the other byte order than this machine's."""
    return not a.dtype.isnative


def _rows(a: np.ndarray) -> tuple[np.ndarray, int] | None:
    """4-byte words ``a`` as one flat native uint32 view over its rows, and the rows'
    distance in words; ``None`` where the rows are not equally spaced runs of adjacent
    words (a records array's samples field is: rows one record apart)."""
    n = _row_length(a)
    rows = a.size // n if n else 0
    if a.ndim > 2:
        try:
            a = a.view()
            a.shape = (rows, n)  # a view, or AttributeError where it would take a copy
        except AttributeError:
            return None
    if a.ndim <= 1:
        if not a.flags.c_contiguous:
            return None
        return a.reshape(-1).view(np.uint32), n
    if rows > 1 and (a.strides[0] % 4 or a.strides[0] < 4 * n) or (n > 1 and a.strides[1] != 4):
        return None
    stride = a.strides[0] // 4 if rows > 1 else n
    span = (rows - 1) * stride + n if rows and n else 0
    flat = np.lib.stride_tricks.as_strided(a.view(np.uint32), shape=(span,), strides=(4,),
                                           writeable=a.flags.writeable)
    return flat, stride


def float32_to_ibm(values: np.ndarray) -> np.ndarray:
    """float32 to IBM words (native uint32 of the same shape), truncating the mantissa
    as segyio does, in one compiled pass (:mod:`seisproc.io.ibm`)."""
    out = np.empty(np.shape(values), dtype=np.uint32)
    _encode_ibm_into(out, values)
    return out


def _encode_ibm_into(out: np.ndarray, values: np.ndarray) -> None:
    """IBM words of float32 ``values`` into ``out`` (4-byte words of either byte order,
    e.g. a records array's samples field), without an encoded temporary."""
    from seisproc.io import ibm

    n = _row_length(out)
    if not out.size:
        return
    bits = np.ascontiguousarray(np.broadcast_to(values, out.shape), dtype=np.float32)
    rows = _rows(out)
    if rows is None:  # not rows of words in memory: encode into a copy, then store it
        staged = np.empty(out.shape, dtype=out.dtype.newbyteorder("="))
        _encode_ibm_into(staged, bits)
        out[...] = staged
        return
    flat, stride = rows
    ibm.encode_rows(bits.reshape(-1, n).view(np.uint32), flat, stride, _swaps(out))
