"""Where seisproc keeps its own files: history, index caches, demo data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["seisproc_home"]


def seisproc_home() -> Path:
    """``$SEISPROC_HOME``, or ``~/.seisproc``; created on first use."""
    home = Path(os.environ.get("SEISPROC_HOME") or Path.home() / ".seisproc").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home
