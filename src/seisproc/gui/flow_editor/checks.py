"""Checks of a flow beyond its parameter models: the gather key and the input's sampling.

A corner above Nyquist or a window shorter than a sample is only wrong for given data,
so ``seisproc run`` refuses it when the job is planned. The editor runs the same
``Processor.check`` as soon as the input file is known, so the user sees it while editing
rather than after submitting. The input's layout is read once per file version.
"""

from __future__ import annotations

import os
from pathlib import Path

from seisproc.errors import HeaderKeyError, ParameterError, SeisprocError
from seisproc.io.headers import header_field
from seisproc.io.segy import SegyLayout, open_segy
from seisproc.processing.flow import Flow

__all__ = ["gather_key_error", "InputProbe"]


def gather_key_error(key: str) -> str | None:
    """Why ``key`` cannot sort traces into gathers, or ``None`` when it can."""
    if not key.strip():
        return "gather by: choose the trace-header key that sorts traces into gathers"
    try:
        header_field(key)
    except HeaderKeyError as exc:
        return f"gather by: {exc}"
    return None


class InputProbe:
    """Checks a valid flow's steps against its input's sampling, caching the layout."""

    def __init__(self) -> None:
        self._cached: tuple[Path, int, int, SegyLayout] | None = None

    def data_errors(self, flow: Flow) -> list[str]:
        """Problems of ``flow`` with its input; none when the input does not exist yet."""
        try:
            layout = self._layout(flow.input)
        except FileNotFoundError:
            return []
        except (SeisprocError, OSError) as exc:
            return [f"input: {exc}"]
        errors = []
        for number, processor in enumerate(flow.processors(), start=1):
            try:
                processor.check(layout.sample_interval_ms, layout.n_samples)
            except ParameterError as exc:
                message = str(exc).removeprefix(f"{processor.name}: ")
                errors.append(f"step {number} ({processor.name}): {message}")
        return errors

    def _layout(self, path: Path) -> SegyLayout:
        stat = os.stat(path)  # FileNotFoundError: nothing to check against yet
        if not path.is_file():
            raise OSError(f"{path} is not a file")
        cached = self._cached
        if cached and cached[:3] == (path, stat.st_mtime_ns, stat.st_size):
            return cached[3]
        with open_segy(path) as segy:
            layout = segy.layout
        self._cached = (path, stat.st_mtime_ns, stat.st_size, layout)
        return layout
