"""IBM System/360 floats to and from float32, compiled (numba), straight from and into
trace records.

Every sample of an IBM survey goes through here twice in a job (read and write), so this
is where a job's time went after the kernel: numpy needs a dozen passes over a gather
for either direction and segyio's C conversion is a scalar loop; one compiled pass per
direction, vectorized by LLVM for the machine it runs on, is 3-5x faster than either
(``benchmarks/end_to_end.py``'s profile). The conversion is exact by definition:

* reading: ``value = (-1)**sign * mantissa * 2**(4 * exponent - 280)`` with the 24-bit
  mantissa, computed in float64 (exact: 24 bits, scale 2**-280 to 2**228) and rounded
  once to float32, so values beyond float32 read as +-inf, those below its normal range
  and unnormalized ones as the nearest float32, and a zero mantissa as +0.0;
* writing: IBM's base-16 exponent is ``((E + 5) >> 2) - 32`` for the IEEE exponent
  field ``E``, the 24-bit fraction shifted right by ``(2 - E) & 3`` (truncated, as
  segyio does); 0 and -0 are written as a plain 0.

The arrays are rows of words inside trace records (a records array's ``samples`` field:
rows ``stride`` words apart), in the file's byte order; ``swap`` says it is not this
machine's. numba is imported only with this module, which :mod:`seisproc.io.samples`
loads on the first IBM sample: commands that never touch one do not pay for it. The
compiled code is cached on disk (:func:`seisproc.compiled.compiled`), so only the first
process after an install compiles (1-2 s); every other process pays 0.6-0.9 s once, on
its first IBM sample, for numba's set-up (its type registries, and scipy.linalg, which
it imports). A worker pays it in its first IBM unit, once in its life: a warm-up at
the actor's start was measured to slow a cold run of an IEEE flow by 1.6 s (it competed
with Ray's start for the two cores), so there is none.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from seisproc.compiled import compiled

__all__ = ["decode_rows", "encode_rows"]

_U = np.uint32
_I = np.int64


@intrinsic
def _float64_from_bits(typingctx, bits):  # type: ignore[no-untyped-def]
    """The float64 whose bit pattern is the int64 ``bits`` (a register move)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@njit(inline="always")
def _swapped(word):  # type: ignore[no-untyped-def]
    return _U(((word >> _U(24)) & _U(0xFF)) | ((word >> _U(8)) & _U(0xFF00))
              | ((word << _U(8)) & _U(0xFF0000)) | ((word << _U(24)) & _U(0xFF000000)))


@njit(inline="always")
def _ibm_value(word):  # type: ignore[no-untyped-def]
    mantissa = word & _U(0xFFFFFF)
    power = _I((word >> _U(24)) & _U(0x7F)) * _I(4) - _I(280)
    scale = _float64_from_bits((power + _I(1023)) << _I(52))  # type: ignore[call-arg,var-annotated]
    value = np.float64(_I(mantissa)) * scale
    negative = (word >> _U(31)) != _U(0) and mantissa != _U(0)  # -0 reads as +0.0
    return np.float32(-value if negative else value)


@njit(inline="always")
def _ibm_word(bits):  # type: ignore[no-untyped-def]
    exponent = (bits >> _U(23)) & _U(0xFF)
    word = _U(((bits & _U(0x7FFFFF)) | _U(0x800000)) >> ((_U(2) - exponent) & _U(3)))
    word |= _U((((exponent + _U(5)) >> _U(2)) + _U(32)) << _U(24))
    word |= bits & _U(0x80000000)
    return word if _U(bits << _U(1)) != _U(0) else _U(0)


@compiled
def decode_rows(words, stride, swap, out):  # type: ignore[no-untyped-def]
    """``out[i]`` (float32, C order) from the IBM words ``words[i * stride:][:n_samples]``."""
    rows, n = out.shape
    for i in range(rows):
        row = words[i * stride: i * stride + n]
        values = out[i]
        if swap:
            for j in range(n):
                values[j] = _ibm_value(_swapped(row[j]))
        else:
            for j in range(n):
                values[j] = _ibm_value(row[j])


@compiled
def encode_rows(bits, words, stride, swap):  # type: ignore[no-untyped-def]
    """IBM words at ``words[i * stride:][:n_samples]`` from the float32 bit patterns
    ``bits[i]`` (uint32, C order)."""
    rows, n = bits.shape
    for i in range(rows):
        row = words[i * stride: i * stride + n]
        values = bits[i]
        if swap:
            for j in range(n):
                row[j] = _swapped(_ibm_word(values[j]))
        else:
            for j in range(n):
                row[j] = _ibm_word(values[j])


def warm() -> None:
    """Compile both conversions, or load them from the disk cache, now: the command
    server does, before it forks, so that no served command pays numba's set-up."""
    words = np.zeros(4, dtype=np.uint32)
    values = np.zeros((1, 4), dtype=np.float32)
    decode_rows(words, 4, True, values)  # ``swap`` is an argument: one signature each
    encode_rows(values.view(np.uint32), words, 4, True)
