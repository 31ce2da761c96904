"""How a worker process's C allocator keeps the memory a unit frees, for the next unit.

A gather is a few MB (480 traces x 2,001 samples: 3.8 MB, and each FFT temporary as
much or twice that). glibc's malloc serves such blocks from ``mmap`` at first, and then
from its heap, which it trims back to the system whenever more than twice the largest
freed block is free at its top: in a job that is after nearly every gather. Every new
array then touches fresh pages, and the kernel zeroes each on its first touch: measured
on a worker, page faults made bandpass + AGC 1.5x slower than on reused memory, and
reading, decoding and encoding 1.5-3x slower.

:func:`keep_freed_memory` raises the thresholds once per worker process: blocks up to
32 MiB (glibc's largest mmap threshold) come from the heap, and up to
:data:`KEPT_BYTES` of free heap stay mapped. A worker's resident memory therefore stays
near its peak (a unit's working set, plus at most that much free) instead of shrinking
between units. Elsewhere than glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["KEPT_BYTES", "keep_freed_memory"]

KEPT_BYTES = 256 * 2**20
"""Free heap a worker keeps mapped (``M_TRIM_THRESHOLD``): a few units' worth of gathers."""

_LARGEST_HEAP_BLOCK = 32 * 2**20
"""``M_MMAP_THRESHOLD``'s maximum on 64-bit glibc; larger blocks are mmapped regardless."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory in this process; ``False`` where the C
    library is not glibc (nothing changed)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library already loaded in this process
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _LARGEST_HEAP_BLOCK)
                and mallopt(_M_TRIM_THRESHOLD, KEPT_BYTES))
