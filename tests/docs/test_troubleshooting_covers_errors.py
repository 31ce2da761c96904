"""Every error a user can meet is explained in docs/troubleshooting_jobs.md.

The source is read, not imported: every class derived from ``SeisprocError`` (in
``errors.py`` or anywhere else) must be named on the page, and every message raised with
one of them, with ``click.BadParameter``, inside a processor's parameter validation, or
recorded as a failed job's ``JobError``, must appear there by its longest fixed part (the
text between the placeholders). A new error therefore fails this test until the page says
what it means and what to do.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "seisproc"
PAGE = ROOT / "docs" / "troubleshooting_jobs.md"
MIN_FRAGMENT = 8
"""Shorter fixed parts (``": "``) say nothing about which message it is."""

VALIDATION_VALUE_ERRORS = SRC / "processing"
"""Processor and flow validators raise ``ValueError``; pydantic turns their message into
the ``ParameterError`` / ``FlowError`` a user sees, so they are user-facing too."""
INTERNAL_VALUE_ERRORS = {
    "is already registered": "two processors registered under one name: a programming error",
    "moving-mean width must be": "an internal helper's argument check",
}


@dataclass(frozen=True)
class RaiseSite:
    where: str
    error: str
    fragments: tuple[str, ...]
    """Fixed texts of the message that the page must contain (may be empty)."""


def _parsed() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _error_classes() -> set[str]:
    """``SeisprocError`` and every class deriving from it, directly or not, by name."""
    bases: dict[str, set[str]] = {}
    for _, tree in _parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
    found = {"SeisprocError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _text(node: ast.AST, constants: dict[str, str]) -> list[str]:
    """The fixed pieces of a message expression: string literals, the literal parts of
    f-strings and concatenations, and module-level string constants it names."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        pieces: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                pieces.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                pieces += ["\0", *_text(value.value, constants), "\0"]
        return pieces
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_text(node.left, constants), "\0", *_text(node.right, constants)]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    return []


def _fragments(node: ast.AST, constants: dict[str, str]) -> tuple[str, ...]:
    """The longest fixed run of the message, whitespace collapsed."""
    runs = " ".join(_text(node, constants)).split("\0")
    runs = [" ".join(run.split()) for run in runs]
    best = max(runs, key=len, default="")
    return (best,) if len(best) >= MIN_FRAGMENT else ()


def _helper_fragments(node: ast.AST, helpers: dict[str, ast.FunctionDef]) -> tuple[str, ...]:
    """Fixed texts of the module's own functions a message is built by (``_explain``,
    ``_not_whole_traces``…): each of their string pieces long enough to mean something
    (words: an identifier compared against, like ``"extra_forbidden"``, is no message)."""
    found: list[str] = []
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            name = ast.unparse(call.func).rsplit(".", 1)[-1]
            function = helpers.get(name)
            if function is None:
                continue
            body = function.body[1:] if ast.get_docstring(function) else function.body
            for stmt in body:
                for string in ast.walk(stmt):
                    if isinstance(string, ast.JoinedStr | ast.Constant):
                        found += _fragments(string, {})
    return tuple(dict.fromkeys(f for f in found if len(f) >= 12 and " " in f))


def _module_constants(tree: ast.Module) -> dict[str, str]:
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def _raise_sites() -> list[RaiseSite]:
    classes = _error_classes()
    sites = []
    for path, tree in _parsed():
        constants = _module_constants(tree)
        helpers = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        for node in ast.walk(tree):
            message, error = _user_message(node, path, classes)
            if message is None:
                continue
            fragments = _fragments(message, constants) + _helper_fragments(message, helpers)
            if error == "ValueError" and any(k in " ".join(fragments)
                                             for k in INTERNAL_VALUE_ERRORS):
                continue
            sites.append(RaiseSite(f"{path.relative_to(ROOT)}:{node.lineno}", error,
                                   fragments))
    return sites


def _user_message(node: ast.AST, path: Path, classes: set[str]) -> tuple[ast.AST | None, str]:
    """The message expression of a user-facing error raised (or recorded) at ``node``."""
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
        error = ast.unparse(node.exc.func).rsplit(".", 1)[-1]
        if error in classes or error == "BadParameter" or (
                error == "ValueError" and path.is_relative_to(VALIDATION_VALUE_ERRORS)):
            return node.exc.args[0], error
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "JobError" \
            and len(node.args) >= 2:
        return node.args[1], "JobError"
    return None, ""


def _page() -> str:
    return " ".join(PAGE.read_text(encoding="utf-8").split())


def test_the_source_scan_finds_the_errors_it_must() -> None:
    """Guards the scanner itself: if it found nothing, every check below would pass."""
    classes = _error_classes()
    assert {"SeisprocError", "FlowError", "JobNotFound", "IllegalTransition", "DeviceError",
            "ActionError", "AlertConfigError", "JobDidNotComplete"} <= classes
    fragments = {f for site in _raise_sites() for f in site.fragments}
    assert ": the output already exists; use --overwrite to replace it" in fragments
    assert len(fragments) > 60


@pytest.mark.parametrize("error", sorted(_error_classes()))
def test_every_error_class_is_on_the_troubleshooting_page(error: str) -> None:
    assert re.search(rf"\b{error}\b", _page()), (
        f"{error} is not named in {PAGE.relative_to(ROOT)}: say when it happens and what "
        "to do")


@pytest.mark.parametrize("site", _raise_sites(), ids=lambda site: site.where)
def test_every_error_message_is_on_the_troubleshooting_page(site: RaiseSite) -> None:
    page = _page()
    missing = [f for f in site.fragments if f not in page]
    assert not missing, (
        f"{site.where} raises {site.error} with a message whose text {missing} is not in "
        f"{PAGE.relative_to(ROOT)}: add the message (placeholders for its variable parts), "
        "what it means and what to do")
