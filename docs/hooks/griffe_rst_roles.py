"""Griffe extension for the API reference: reStructuredText roles as Markdown code.

seisproc's docstrings cross-reference with Sphinx roles (``:class:`~seisproc.jobs.Job```,
``:meth:`submit```), which Markdown would print as they are. This turns each into inline
code (``~`` keeps the last name, as Sphinx does) and drops ``# doctest:`` directives from
examples, so the rendered page reads as prose. The source docstrings stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const|ref):`([^`]+)`")
_DOCTEST = re.compile(r"[ \t]*#\s*doctest:[^\n]*")


def _code(match: re.Match[str]) -> str:
    target = "".join(match[1].split())  # a reference may be wrapped over two lines
    if target.startswith("~"):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def clean(text: str) -> str:
    """The docstring with roles as inline code and doctest directives removed."""
    return _DOCTEST.sub("", _ROLE.sub(_code, text))


class RstRoles(griffe.Extension):
    """Rewrites every loaded docstring once, before mkdocstrings parses it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = clean(obj.docstring.value)
