"""Checks of a flow beyond its parameter models: the gather key and the input's sampling.

A corner above Nyquist or a window shorter than a sample is only wrong for given data,
so ``seisproc run`` refuses it when the job is planned. The editor runs the same
``Processor.check`` as soon as the input file is known, so the user sees it while editing
rather than after submitting, and on the field the message is about: the processor names
it in its message (``f4 = 150 Hz is above the Nyquist frequency ...``), and
:func:`field_named` finds it there, for any processor, without each one having to tag its
errors. A message that names no field is the step's as a whole. The input's layout is
read once per file version.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from seisproc.errors import HeaderKeyError, ParameterError
from seisproc.io.headers import header_field
from seisproc.io.segy import SegyLayout, open_segy
from seisproc.jobs.staging import SECTION
from seisproc.processing.base import Processor

__all__ = ["gather_key_error", "InputProbe", "DataProblem", "check_step", "field_named"]


def gather_key_error(key: str) -> str | None:
    """Why ``key`` cannot sort traces into gathers, or ``None`` when it can."""
    if not key.strip():
        return "gather by: choose the trace-header key that sorts traces into gathers"
    if key.strip().lower() == SECTION:
        return None  # the whole file as one gather (a migration's stacked section)
    try:
        header_field(key)
    except HeaderKeyError as exc:
        return f"gather by: {exc}"
    return None


@dataclass(frozen=True)
class DataProblem:
    """Why a step's valid parameters cannot apply to the input's sampling."""

    field: str | None
    """The parameter the message is about; ``None``: the step's parameters together."""
    message: str
    """The processor's message, without its ``name:`` prefix."""


def field_named(message: str, fields: Iterable[str]) -> str | None:
    """The first of ``fields`` that ``message`` names as a whole word, else ``None``.

    >>> field_named("f4 = 150 Hz is above the Nyquist frequency", ["f1", "f4"])
    'f4'
    >>> field_named("the design window is too short", ["design_window_ms"]) is None
    True
    """
    found = [
        (match.start(), name)
        for name in fields
        if (match := re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message))
    ]
    return min(found)[1] if found else None


def check_step(processor: Processor, layout: SegyLayout) -> DataProblem | None:
    """``processor.check`` against the input's sampling, as ``seisproc run`` makes it."""
    try:
        processor.check(layout.sample_interval_ms, layout.n_samples)
    except ParameterError as exc:
        message = str(exc).removeprefix(f"{processor.name}: ")
        return DataProblem(field_named(message, processor.Params.model_fields), message)
    return None


class InputProbe:
    """The layout (sampling, trace length) of the flow's input, cached per file version."""

    def __init__(self) -> None:
        self._cached: tuple[Path, int, int, SegyLayout] | None = None

    def layout(self, path: Path) -> SegyLayout | None:
        """``None`` while the file does not exist (nothing to check against yet).

        Raises ``OSError`` or a :class:`~seisproc.errors.SeisprocError` that says why
        the file cannot be read as SEG-Y.
        """
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        if not path.is_file():
            raise OSError(f"{path} is not a file")
        cached = self._cached
        if cached and cached[:3] == (path, stat.st_mtime_ns, stat.st_size):
            return cached[3]
        with open_segy(path) as segy:
            layout = segy.layout
        self._cached = (path, stat.st_mtime_ns, stat.st_size, layout)
        return layout
