"""A worker keeps the memory a gather frees, for the next gather (orchestration.allocator)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import resource, sys
import numpy as np
from seisproc.orchestration.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
for _ in range(3):  # settle: the first gathers fault their pages in either way
    (np.ones((480, 2001), np.float32) * 2).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):  # a gather and one temporary as large, freed after each
    (np.ones((480, 2001), np.float32) * 2).sum()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True,
                          text=True, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_a_worker_reuses_freed_gather_memory_instead_of_faulting_in_fresh_pages() -> None:
    """40 gathers of 3.8 MB: ~38,000 page faults with glibc's defaults (each gather's
    pages are fresh), a few hundred at most once the worker keeps freed memory."""
    default, kept = page_faults("default"), page_faults("keep")
    assert default > 20 * 938  # 938 pages per gather: most gathers faulted in afresh
    assert kept < default / 20
