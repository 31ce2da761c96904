"""Sample formats of SEG-Y traces and their conversion to and from float32.

IBM System/360 floats are read through segyio's C conversion where it is exact, and
with numpy bit operations where it is not. segyio's C code is 3x faster than numpy on a
gather, and exact for every normalized IBM value float32 can hold, which is what nearly
every file holds; three reductions over each word's first two bytes tell whether a
gather holds any other, and only those are converted again with numpy. IBM values
beyond float32's range read as +-inf (segyio gives NaN); those below its normal range
and unnormalized ones read as the nearest float32, where segyio's table-driven
conversion goes wrong. Writing uses numpy bit operations, which match segyio bit for bit
for every float32.

The integer formats of SEG-Y rev 2 read to float32 as well: 1-, 2- and 3-byte integers,
signed or not, exactly; 4- and 8-byte integers exactly up to 2**24 (16,777,216) in
magnitude and to the nearest float32 (about 7 significant digits) beyond. numpy has no
3-byte type, so a 3-byte sample is a two-field record, a 2-byte high part (signed for
format 7) and a low byte, laid out in the file's byte order.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import segyio
from segyio import _segyio  # segyio.tools.native's C routine, without its extra copy

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
        out[...] = float32_to_ibm(samples)
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
    """IBM single-precision words (uint32 of any byte order) to float32: through
    segyio's C conversion for big-endian words on a little-endian machine (every file but
    a rev 2 little-endian one, on x86 and ARM), else through :func:`_ibm_by_bits`."""
    if words.dtype == _BIG_U4 and sys.byteorder == "little":
        return _ibm_through_segyio(words)
    return _ibm_by_bits(words)


_BIG_U4 = np.dtype(">u4")
_IBM_CODE = int(segyio.SegySampleFormat.IBM_FLOAT_4_BYTE)


def _ibm_through_segyio(words: np.ndarray) -> np.ndarray:
    """segyio's C conversion (in place, on a contiguous copy), after checking each word's
    first two bytes: read as the low 16 bits of the little-endian integer, the exponent is
    bits 0-6 and the mantissa's leading hex digit bits 12-15. segyio is exact when the
    exponent is 0x22-0x60 and that digit is not 0 (a normalized value float32 holds):
    three reductions say so for a whole gather; only otherwise is each word checked, and
    the others converted bit by bit."""
    buffer = np.array(words, dtype=_BIG_U4, order="C")
    swapped = buffer.view(np.uint32)
    low = swapped.astype(np.uint16)
    exponent = low & np.uint16(0x7F)
    redo = None
    if not (low.min() >= 0x1000 and exponent.min() >= 0x22 and exponent.max() <= 0x60):
        exact = (exponent >= 0x22) & (exponent <= 0x60) & (low >= 0x1000)
        exact |= (swapped & np.uint32(0xFFFFFF7F)) == 0  # 0 and -0: segyio reads +0.0
        redo = np.flatnonzero(~exact.reshape(-1))
        redo_words = buffer.reshape(-1)[redo]
    samples: np.ndarray = _segyio.native(buffer.view(np.float32), _IBM_CODE)
    if redo is not None and redo.size:
        samples.reshape(-1)[redo] = _ibm_by_bits(redo_words)
    return samples


def _ibm_by_bits(words: np.ndarray) -> np.ndarray:
    """IBM single-precision words (uint32 of any byte order) to float32, in numpy.

    value = (-1)**sign * 0.mantissa(24 bits, base 16) * 16**(exponent - 64). The 24-bit
    mantissa is exact in float32, so one ``ldexp`` by ``4 * exponent - 280`` gives the
    correctly rounded result without a float64 detour (5x faster on a gather).
    """
    w = words.astype(np.uint32)
    mantissa = (w & np.uint32(0x00FFFFFF)).astype(np.float32)
    exponent = ((w >> 24) & np.uint32(0x7F)).astype(np.int32) * 4 - 280
    with np.errstate(over="ignore", under="ignore"):  # beyond float32: +-inf (segyio: NaN)
        magnitude = np.ldexp(mantissa, exponent)
    signed = magnitude.view(np.uint32) | (w & np.uint32(0x80000000))
    return np.where(mantissa == 0, np.float32(0.0), signed.view(np.float32))  # -0 reads as 0


def float32_to_ibm(values: np.ndarray) -> np.ndarray:
    """float32 to IBM words (native uint32), truncating the mantissa as segyio does.

    With ``E`` the IEEE exponent field the value is ``0.1f * 2**(E - 126)``; IBM needs
    the base-16 exponent ``ceil((E - 126) / 4)``, i.e. ``((E + 5) >> 2) - 32``, and the
    24-bit fraction shifted right by the ``(2 - E) & 3`` bits that rounding the exponent
    up costs. All in unsigned 32-bit operations, in place: 6x faster than with signed
    temporaries, which matters as every sample of an IBM output goes through here.
    """
    u = np.uint32
    ieee = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    exponent = ieee >> u(23)
    exponent &= u(0xFF)
    ibm = ieee & u(0x007FFFFF)
    ibm |= u(0x00800000)
    shift = np.subtract(u(2), exponent)
    shift &= u(3)
    ibm >>= shift
    exponent += u(5)
    exponent >>= u(2)
    exponent += u(32)  # ((E + 5) >> 2) - 32 + 64: the excess-64 IBM exponent
    exponent <<= u(24)
    ibm |= exponent
    np.bitwise_and(ieee, u(0x80000000), out=exponent)  # the sign, reusing the buffer
    ibm |= exponent
    np.left_shift(ieee, u(1), out=exponent)  # zero without its sign: 0 and -0
    np.multiply(ibm, exponent != 0, out=ibm)  # are written as a plain 0, as segyio does
    return ibm
