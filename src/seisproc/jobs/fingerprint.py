"""What a checkpoint was made against: the input file, the flow and the cut of units.

A checkpoint records bare unit numbers, and a unit number means something only for the
plan that numbered it: the same number names other gathers once the input is replaced or
rewritten, the flow is edited, or units are cut with another number of gathers. Resuming
from such a checkpoint would skip work that was never done for *these* gathers and end
COMPLETED with traces of zeros. A :class:`PlanFingerprint` is written beside the checkpoint
when a job (re)starts and compared with a fresh one before it resumes;
:func:`plan_changes` says in words what differs.

Identifying the input must stay cheap (a resume must not read a 100 GB survey), so the
identity is the file's size and modification time plus a hash of its file headers and of a
sample of trace headers (first, last and up to 64 evenly spaced): a file replaced by
another survey, appended to, or rewritten in place shows up in at least one of them. A
rewrite that keeps the size, every sampled header *and* resets the modification time is
not detected; nothing short of reading every sample would detect it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seisproc.io.headers import TRACE_HEADER_BYTES
from seisproc.io.segy import open_segy

if TYPE_CHECKING:  # annotations only: the checkpoint store need not import the planner
    from seisproc.jobs.plan import JobPlan
    from seisproc.processing.flow import Flow

__all__ = [
    "InputIdentity",
    "PlanFingerprint",
    "input_identity",
    "flow_digest",
    "plan_fingerprint",
    "input_changes",
    "plan_changes",
    "mismatch_message",
    "SAMPLED_TRACES",
]

SAMPLED_TRACES = 64
"""Evenly spaced trace headers hashed besides the first and last: 66 reads of 240 bytes."""


@dataclass(frozen=True)
class InputIdentity:
    """The input file of a job as it was when the job was planned."""

    path: str
    """The file, as the flow names it (absolute)."""
    size: int
    """Bytes; any append or truncation changes it."""
    mtime_ns: int
    """Modification time, ns since the epoch; a rewrite or ``touch`` changes it."""
    header_sha256: str
    """sha256 of the file headers (3600 bytes plus extended textual headers) and of the
    240-byte headers of the first, the last and up to 64 evenly spaced traces."""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns,
                "header_sha256": self.header_sha256}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputIdentity:
        return cls(path=str(data["path"]), size=int(data["size"]),
                   mtime_ns=int(data["mtime_ns"]), header_sha256=str(data["header_sha256"]))


@dataclass(frozen=True)
class PlanFingerprint:
    """Everything a checkpoint's unit numbers depend on."""

    input: InputIdentity
    flow_sha256: str
    """:func:`flow_digest` of the flow: another flow writes other traces."""
    gathers_per_unit: int
    """How units were cut; a resumed job is re-cut with this, not the current default."""
    n_units: int
    """Unit numbers at or above this are not of this plan and are never trusted."""
    n_traces: int
    stage: int = 1
    """The flow's stage these units belong to (from 1): a resume continues in it. Its
    ``input`` is that stage's input (the previous stage's intermediate), its
    ``flow_sha256`` the whole flow's."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"input": self.input.to_dict(), "flow_sha256": self.flow_sha256,
                "gathers_per_unit": self.gathers_per_unit, "n_units": self.n_units,
                "n_traces": self.n_traces}
        return data if self.stage == 1 else {**data, "stage": self.stage}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanFingerprint:
        return cls(input=InputIdentity.from_dict(data["input"]),
                   flow_sha256=str(data["flow_sha256"]),
                   gathers_per_unit=int(data["gathers_per_unit"]),
                   n_units=int(data["n_units"]), n_traces=int(data["n_traces"]),
                   stage=int(data.get("stage", 1)))


def input_identity(path: str | os.PathLike[str]) -> InputIdentity:
    """Identify a SEG-Y file cheaply: one ``stat`` and a few small reads, whatever its size.

    Raises what :func:`~seisproc.io.segy.open_segy` raises (``SegyFormatError``) for a
    missing file or one that is not SEG-Y.

    >>> input_identity("shots.sgy").size                   # doctest: +SKIP
    4896000
    """
    path = Path(path)
    with open_segy(path) as segy:
        layout = segy.layout
        digest = hashlib.sha256(segy.file_header_bytes)
    fd = os.open(path, os.O_RDONLY)
    try:
        stat = os.fstat(fd)
        for position in _sampled_positions(layout.n_traces):
            offset = layout.data_offset + position * layout.trace_bytes
            digest.update(os.pread(fd, TRACE_HEADER_BYTES, offset))
    finally:
        os.close(fd)
    return InputIdentity(str(path), stat.st_size, stat.st_mtime_ns, digest.hexdigest())


def _sampled_positions(n_traces: int) -> list[int]:
    """First, last and up to :data:`SAMPLED_TRACES` evenly spaced traces, in order."""
    spaced = np.linspace(0, n_traces - 1, min(n_traces, SAMPLED_TRACES)).round()
    return sorted({0, n_traces - 1, *spaced.astype(np.int64).tolist()})


def flow_digest(flow_mapping: dict[str, Any]) -> str:
    """sha256 of the flow as canonical JSON (sorted keys), so that key order and
    formatting of the flow file do not count as a change.

    >>> flow_digest({"b": 1, "a": [2.0]}) == flow_digest({"a": [2.0], "b": 1})
    True
    """
    text = json.dumps(flow_mapping, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_fingerprint(flow: Flow, plan: JobPlan, gathers_per_unit: int,
                     identity: InputIdentity | None = None) -> PlanFingerprint:
    """The fingerprint of ``plan``, made from ``flow`` with ``gathers_per_unit``.

    Pass ``identity`` taken *before* planning: the input is then identified no later than
    it was indexed, so a file replaced in between shows up as a change on resume instead
    of slipping in unnoticed. Without it, the input is identified now.
    """
    if gathers_per_unit < 1 or -(-plan.n_gathers // gathers_per_unit) != len(plan.units):
        raise ValueError(f"plan of {plan.n_gathers} gathers in {len(plan.units)} units "
                         f"was not cut with {gathers_per_unit} gathers per unit")
    return PlanFingerprint(
        input=identity if identity is not None else input_identity(flow.input),
        flow_sha256=flow_digest(flow.to_mapping()), gathers_per_unit=gathers_per_unit,
        n_units=len(plan.units), n_traces=plan.n_traces)


def input_changes(recorded: InputIdentity, now: InputIdentity) -> list[str]:
    """What differs between the input as recorded and as it is now, in words; empty when
    it is the same file unchanged."""
    changes = []
    if recorded.path != now.path:
        changes.append(f"the input is now {now.path} (was {recorded.path})")
    where = f"the input {now.path} changed since the job started"
    if recorded.size != now.size:
        changes.append(f"{where} (size {recorded.size:,} -> {now.size:,} bytes)")
        return changes
    details = []
    if recorded.mtime_ns != now.mtime_ns:
        before, after = _times(recorded.mtime_ns, now.mtime_ns)
        details.append(f"modified {before} -> {after}")
    if recorded.header_sha256 != now.header_sha256:
        details.append("its headers differ")
    if details:
        changes.append(f"{where} (same size, {', '.join(details)})")
    return changes


def _times(before_ns: int, after_ns: int) -> tuple[str, str]:
    """Local times to the second, or to the microsecond where seconds cannot tell them
    apart (a rewrite within the same second)."""
    stamps = [datetime.fromtimestamp(ns // 10**9) + timedelta(microseconds=ns % 10**9 // 1000)
              for ns in (before_ns, after_ns)]
    texts = [s.strftime("%Y-%m-%d %H:%M:%S") for s in stamps]
    if texts[0] == texts[1]:
        texts = [s.strftime("%Y-%m-%d %H:%M:%S.%f") for s in stamps]
    return texts[0], texts[1]


def plan_changes(recorded: PlanFingerprint, now: PlanFingerprint) -> list[str]:
    """Why the units recorded for ``recorded`` do not stand for the same work under
    ``now``, in words; empty when the checkpoint can be trusted."""
    changes = input_changes(recorded.input, now.input)
    if recorded.stage != now.stage:
        changes.append(f"the stage changed ({recorded.stage} -> {now.stage})")
    if recorded.flow_sha256 != now.flow_sha256:
        changes.append("the flow changed")
    if recorded.gathers_per_unit != now.gathers_per_unit:
        changes.append(f"the unit size changed ({recorded.gathers_per_unit} -> "
                       f"{now.gathers_per_unit} gathers per unit)")
    if recorded.n_units != now.n_units:
        changes.append(f"the unit count changed ({recorded.n_units} -> {now.n_units})")
    if recorded.n_traces != now.n_traces:
        changes.append(f"the trace count changed ({recorded.n_traces:,} -> "
                       f"{now.n_traces:,})")
    return changes


def mismatch_message(job_id: str, changes: list[str]) -> str:
    """The one line a refused resume shows: what changed and how to start over.

    >>> print(mismatch_message("abc", ["the flow changed"]))  # doctest: +NORMALIZE_WHITESPACE
    job abc: cannot resume from its checkpoint: the flow changed;
    start over with: seisproc resume --restart abc
    """
    reasons = "; ".join(changes) if changes else "its recorded plan does not match"
    return (f"job {job_id}: cannot resume from its checkpoint: {reasons}; "
            f"start over with: seisproc resume --restart {job_id}")
