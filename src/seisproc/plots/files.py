"""Writing a picture whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["save_png"]


def save_png(figure: Figure, path: str | os.PathLike[str], dpi: float | None = None) -> Path:
    """Write ``figure`` to ``path`` as PNG through a temporary file beside it, renamed
    over it once complete: a full disk or a kill never leaves half a picture under the
    name a person will open."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        figure.savefig(temporary, format="png", dpi=dpi if dpi is not None else "figure")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
