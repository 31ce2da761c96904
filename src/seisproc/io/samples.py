"""Sample formats of SEG-Y traces and their conversion to and from float32.

IBM System/360 floats are converted with numpy bit operations, which run on a whole
gather at once and match segyio's C conversion bit for bit for every float32 written and
every normalized IBM value read that float32 can hold. IBM values beyond float32's range
read as +-inf (segyio gives NaN); those below its normal range and unnormalized ones read
as the nearest float32, where segyio's table-driven conversion goes wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seisproc.errors import SegyFormatError

__all__ = ["SampleFormat", "sample_format", "ibm_to_float32", "float32_to_ibm", "IBM", "IEEE"]

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
        return np.dtype(self.base).itemsize

    @property
    def is_float(self) -> bool:
        return self.code in (IBM, IEEE, 6)

    def dtype(self, endian: str) -> np.dtype:
        return np.dtype(("<" if endian == "little" else ">") + self.base)


_FORMATS = {
    1: SampleFormat(1, "4-byte IBM float", "u4"),
    2: SampleFormat(2, "4-byte signed integer", "i4"),
    3: SampleFormat(3, "2-byte signed integer", "i2"),
    5: SampleFormat(5, "4-byte IEEE float", "f4"),
    6: SampleFormat(6, "8-byte IEEE float", "f8"),
    8: SampleFormat(8, "1-byte signed integer", "i1"),
}


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
    """Samples as stored (any byte order) to native float32."""
    if fmt.code == IBM:
        return ibm_to_float32(raw)
    return raw.astype(np.float32)


def encode(samples: np.ndarray, fmt: SampleFormat, endian: str) -> np.ndarray:
    """float32 samples to the stored representation of ``fmt`` in ``endian`` order."""
    if fmt.code == IBM:
        out = float32_to_ibm(samples)
    elif fmt.is_float:
        out = samples
    else:
        info = np.iinfo(fmt.base)
        out = np.clip(np.rint(samples), info.min, info.max)
    return np.asarray(out).astype(fmt.dtype(endian), copy=False)


def ibm_to_float32(words: np.ndarray) -> np.ndarray:
    """IBM single-precision words (uint32 of any byte order) to float32.

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

    With ``t = exponent - 126`` the IEEE value is ``0.1f * 2**t``; IBM needs a base-16
    exponent ``ceil(t / 4)`` and the 24-bit fraction shifted right by the 0-3 bits that
    rounding the exponent up costs. All in 32-bit integer operations (3x faster than a
    64-bit version on a gather).
    """
    ieee = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    t = ((ieee >> 23) & np.uint32(0xFF)).astype(np.int32) - 126
    e16 = (t + 3) >> 2  # ceil(t / 4); >> is an arithmetic shift on int32
    shift = ((e16 << 2) - t).astype(np.uint32)
    ibm = ((ieee & np.uint32(0x007FFFFF)) | np.uint32(0x00800000)) >> shift
    ibm |= (e16 + 64).astype(np.uint32) << 24
    ibm |= ieee & np.uint32(0x80000000)
    zero = (ieee & np.uint32(0x7FFFFFFF)) == 0
    return np.where(zero, np.uint32(0), ibm)  # -0.0 too, as segyio
