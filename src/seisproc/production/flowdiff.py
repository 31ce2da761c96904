"""What differs between two flows, step by step and parameter by parameter.

Steps are matched by processor name in order (as ``diff`` matches lines), so inserting
one step shows as that step added, not as every later step changed; matched steps are
compared parameter by parameter, each named ``processor.parameter`` as in
``--vary agc.window_ms``.

>>> a = {"name": "f", "gather_by": "ffid", "steps": [{"bandpass": {"f1": 5}},
...                                                   {"agc": {"window_ms": 500}}]}
>>> b = {"name": "f", "gather_by": "ffid", "steps": [{"bandpass": {"f1": 5}},
...                                                   {"agc": {"window_ms": 250}}]}
>>> flow_differences(a, b)
['step 2: agc.window_ms 500 -> 250']
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from seisproc.processing.flow import all_steps

__all__ = ["flow_differences", "file_differences"]

_SETTINGS = ("name", "gather_by", "device")
_FILES = ("input", "output")
_UNSET = "(not set)"


def flow_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """How flow ``b`` differs from flow ``a`` in what it does: its settings (name,
    gather key, device) and its steps; paths are :func:`file_differences`."""
    lines = [
        f"{key} {a.get(key, 'auto' if key == 'device' else _UNSET)} -> "
        f"{b.get(key, 'auto' if key == 'device' else _UNSET)}"
        for key in _SETTINGS
        if a.get(key) != b.get(key)
    ]
    return lines + _step_differences(_steps(a), _steps(b))


def file_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Which of the input and output paths differ (``input /a.sgy -> /b.sgy``)."""
    return [
        f"{key} {a.get(key, _UNSET)} -> {b.get(key, _UNSET)}"
        for key in _FILES
        if a.get(key) != b.get(key)
    ]


def _steps(flow: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    steps = []
    for step in all_steps(flow):
        if isinstance(step, Mapping):
            for name, params in step.items():
                steps.append((str(name), dict(params or {})))
        else:
            steps.append((str(step), {}))
    return steps


def _step_differences(
    a: Sequence[tuple[str, dict[str, Any]]], b: Sequence[tuple[str, dict[str, Any]]]
) -> list[str]:
    matcher = difflib.SequenceMatcher(a=[n for n, _ in a], b=[n for n, _ in b], autojunk=False)
    lines: list[str] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                lines += _param_differences(j + 1, a[i], b[j])
            continue
        lines += [f"step {i + 1} removed: {_show(a[i])}" for i in range(a0, a1)]
        lines += [f"step {j + 1} added: {_show(b[j])}" for j in range(b0, b1)]
    return lines


def _param_differences(
    number: int, a: tuple[str, dict[str, Any]], b: tuple[str, dict[str, Any]]
) -> list[str]:
    name, params_a = a
    params_b = b[1]
    return [
        f"step {number}: {name}.{key} {params_a.get(key, _UNSET)} -> {params_b.get(key, _UNSET)}"
        for key in sorted(set(params_a) | set(params_b))
        if params_a.get(key, _UNSET) != params_b.get(key, _UNSET)
    ]


def _show(step: tuple[str, dict[str, Any]]) -> str:
    name, params = step
    inner = ", ".join(f"{key}: {value}" for key, value in params.items())
    return f"{name} {{{inner}}}"
