"""What makes a run reproducible, recorded with every job at submission.

A job's flow says what was asked; to say months later exactly how a volume was made (and
to re-make it, :mod:`seisproc.production.replay`) the job also keeps the software that ran
it, the device its units were sent to, and the input's identity. The record is a plain
mapping, stored in the job history beside the flow (``Job.provenance``)::

    {"seisproc": "1.4.0", "python": "3.11.9",
     "packages": {"numpy": "2.1.3", "scipy": "1.14.1", "segyio": "1.9.12", "torch": "2.5.1"},
     "device": {"requested": "auto", "workers": "cpu"}, "host": "node07",
     "input": {"path": ..., "size": ..., "mtime_ns": ..., "header_sha256": ...,
               "traces_sha256": ...}}

Versions come from the installed packages' metadata (:func:`importlib.metadata.version`),
never from importing them: torch takes seconds to import and the driver of a CPU run never
loads it, so its version is that of the torch the GPU workers would import. The input's
identity is :func:`seisproc.jobs.fingerprint.input_identity` (size, modification time, a
hash of the file headers and of 66 sampled trace headers) plus a hash of the same sampled
traces' samples: a few small reads whatever the file's size.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import socket
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from seisproc._version import __version__
from seisproc.errors import SeisprocError
from seisproc.io.segy import open_segy
from seisproc.jobs.fingerprint import InputIdentity, input_changes, input_identity
from seisproc.processing.device import ClusterDevices, DeviceError, worker_kind
from seisproc.processing.flow import Flow

__all__ = [
    "PACKAGES",
    "environment",
    "input_record",
    "device_record",
    "record_provenance",
    "input_differences",
    "environment_differences",
]

PACKAGES = ("numpy", "scipy", "segyio", "torch")
"""The packages whose version can change a job's output."""
SAMPLED_TRACES = 64
"""Traces whose samples are hashed besides the first and last (as the headers are)."""


@functools.cache
def environment() -> dict[str, Any]:
    """seisproc's, Python's and :data:`PACKAGES`' versions (``None``: not installed), and
    the host: read once per process, from package metadata (nothing is imported)."""
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "seisproc": __version__,
        "python": platform.python_version(),
        "packages": packages,
        "host": socket.gethostname(),
        "platform": f"{platform.system()} {platform.machine()}",
    }


def input_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The identity of the SEG-Y file at ``path``: :class:`InputIdentity`'s fields and
    ``traces_sha256``, a sha256 of the first, the last and 64 evenly spaced traces'
    samples. A file that cannot be read as SEG-Y gives ``{"path", "unreadable"}`` (its
    job will fail saying why; the record says what was there).

    >>> input_record("shots.sgy")["size"]                  # doctest: +SKIP
    4896000
    """
    try:
        identity = input_identity(path)
        with open_segy(path) as segy:
            n_traces = segy.layout.n_traces
            spaced = np.linspace(0, n_traces - 1, min(n_traces, SAMPLED_TRACES)).round()
            positions = sorted({0, n_traces - 1, *spaced.astype(np.int64).tolist()})
            samples = segy.read_records(np.asarray(positions))["samples"]
    except (SeisprocError, OSError) as exc:
        return {"path": str(path), "unreadable": " ".join(str(exc).split())}
    return {**identity.to_dict(), "traces_sha256": hashlib.sha256(samples.tobytes()).hexdigest()}


def device_record(flow: Flow, gpus: Sequence[str], address: str | None) -> dict[str, Any]:
    """The device a job of ``flow`` runs on: what the flow asks for, the GPUs this host
    has (``gpus``, their names), and ``workers``, the kind of worker its units go to.

    On this host's Ray (``address`` ``None``) that is decided here by the engine's own
    rule (:func:`~seisproc.processing.device.worker_kind`: a GPU when there is one and
    torch to drive it); on a cluster at ``address`` the cluster decides, and ``workers``
    is ``None`` with ``cluster`` naming it.
    """
    record: dict[str, Any] = {"requested": flow.device, "gpus": list(gpus)}
    if address:
        return {**record, "workers": None, "cluster": address}
    here = ClusterDevices(
        cpus=float(os.cpu_count() or 1),
        gpus=float(len(gpus)),
        torch_version=environment()["packages"]["torch"],
    )
    try:
        record["workers"] = worker_kind(flow.device, here)
    except DeviceError:
        record["workers"] = None  # the submission refuses it, saying why
    return record


def record_provenance(
    flow: Flow, *, device: Mapping[str, Any] | None = None, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The provenance of a job of ``flow`` about to be submitted: :func:`environment`,
    ``device`` (:func:`device_record`; by default only what the flow asks for), the
    input's :func:`input_record`, and ``extra`` keys (a replay's ``replay_of``).
    """
    record = {
        **environment(),
        "device": dict(device or {"requested": flow.device}),
        "input": input_record(flow.input),
    }
    record.update(extra or {})
    return record


def input_differences(recorded: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """How the input as it is ``now`` differs from the ``recorded`` one, in words (empty:
    the same file, unchanged, as far as its identity can tell)."""
    if "unreadable" in now:
        return [f"the input {now['path']} cannot be read now: {now['unreadable']}"]
    if "unreadable" in recorded or "size" not in recorded:
        return [f"the input {recorded.get('path', '?')} was not identified when the job ran"]
    changes = input_changes(_identity(recorded), _identity(now))
    if not changes and recorded.get("traces_sha256") != now.get("traces_sha256"):
        changes.append(
            f"the input {now['path']} changed since the job ran "
            "(same size and headers, its sampled traces differ)"
        )
    return changes


def _identity(record: Mapping[str, Any]) -> InputIdentity:
    return InputIdentity.from_dict(dict(record))


def environment_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """How the environment of run ``b`` differs from run ``a``'s, one line per item
    (``numpy 1.26.4 -> 2.1.3``), host and device included; empty when none."""
    lines = []
    for key in ("seisproc", "python", "host", "platform"):
        if a.get(key) != b.get(key):
            lines.append(f"{key} {a.get(key)} -> {b.get(key)}")
    packages_a, packages_b = a.get("packages") or {}, b.get("packages") or {}
    for name in sorted(set(packages_a) | set(packages_b)):
        if packages_a.get(name) != packages_b.get(name):
            lines.append(f"{name} {packages_a.get(name)} -> {packages_b.get(name)}")
    device_a, device_b = a.get("device") or {}, b.get("device") or {}
    for key in sorted(set(device_a) | set(device_b)):
        if device_a.get(key) != device_b.get(key):
            lines.append(f"device.{key} {device_a.get(key)} -> {device_b.get(key)}")
    return lines
