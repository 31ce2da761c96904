"""Errors a user can act on.

Every error seisproc raises on bad input derives from :class:`SeisprocError` and carries a
message meant for a person: it names the file, the field, the step or the trace, and what
would be accepted instead. The CLI prints that message as one line; nothing else should be
needed to fix the problem.
"""

from __future__ import annotations

__all__ = [
    "SeisprocError",
    "SegyFormatError",
    "HeaderKeyError",
    "FlowError",
    "ParameterError",
    "OutputError",
    "ProcessingError",
]


class SeisprocError(Exception):
    """Base of every error caused by the user's input or environment, not by a bug."""


class SegyFormatError(SeisprocError):
    """A file is not SEG-Y, is truncated, or disagrees with its own headers."""


class HeaderKeyError(SeisprocError):
    """A trace-header key that seisproc does not know."""


class FlowError(SeisprocError):
    """A flow file that cannot be read or that names something that does not exist."""


class ParameterError(SeisprocError):
    """A processor parameter that is missing, of the wrong type or out of range."""


class OutputError(SeisprocError):
    """An output that would overwrite the input or an existing file, or cannot be written."""


class ProcessingError(SeisprocError):
    """A processor failed on real data; the message names the gather."""
