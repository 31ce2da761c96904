"""The suite's tests import ``benchmarks`` (a folder at the repository root, not a package
of ``src``): put the root on the path, whichever way pytest was started."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
