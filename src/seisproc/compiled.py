"""Loops compiled with numba, and cached on disk where a folder can hold them.

Some of seisproc's inner loops (IBM conversion, the diff's per-trace sums) walk every
sample of a survey and cost several numpy passes each; one compiled loop walks it once.
:func:`compiled` is numba's ``njit`` (no GIL held, no bounds checks) with the compiled
code cached on disk, in the package's ``__pycache__``, ``NUMBA_CACHE_DIR`` or
``~/.cache/numba``; where none is writable, uncached: each process then compiles (1-2 s)
instead of failing. Import this only where such a loop runs: numba takes 0.2 s to import
and 0.6-0.9 s more on its first call in a process (its type registries).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

__all__ = ["compiled"]


def compiled(function: Callable[..., Any] | None = None, *,
             fastmath: bool | set[str] = False) -> Any:
    """``function`` compiled by numba, cached on disk where possible (see the module);
    ``@compiled(fastmath={...})`` passes LLVM's fast-math flags (e.g. ``reassoc``, which
    lets a sum be vectorized)."""
    if function is None:
        return lambda f: compiled(f, fastmath=fastmath)
    options: dict[str, Any] = {"nogil": True, "boundscheck": False, "fastmath": fastmath}
    try:
        return njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(**options)(function)
