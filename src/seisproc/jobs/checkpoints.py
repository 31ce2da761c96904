"""Checkpoints: which units of a job are done, durable after every unit.

A checkpoint is an append-only file of 4-byte unit numbers, one record per completed unit,
``fsync``'d before the unit is announced as done (0.35 ms median here; the units a driver
gets back together share one write and one ``fsync``, see :meth:`CheckpointStore.append_many`).
A process killed
mid-append leaves at most a torn last record, which is ignored on reading: the unit is
simply redone, and since units rewrite the same bytes at the same positions the output
is unchanged. The traces of a unit are in the output file (through the page cache) before
its record is appended, so the checkpoint never claims work a killed process did not do.

Unit numbers mean something only for the plan that cut the units, so a (re)started job
first records its :class:`~seisproc.jobs.fingerprint.PlanFingerprint` with
:meth:`CheckpointStore.begin` (``<job id>.plan.json`` beside ``<job id>.units``); a resume
compares it with a fresh fingerprint before trusting any unit. A checkpoint without a
readable plan (one written by a version before plans were recorded, or a torn write) is
worth nothing: :meth:`CheckpointStore.plan` returns ``None`` and the job starts over.
Both files are private to the user (0600): they name the user's files.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seisproc.io.writer import sync_path
from seisproc.jobs.fingerprint import PlanFingerprint
from seisproc.paths import private_dir

__all__ = ["CheckpointStore"]

_RECORD = np.dtype("<u4")
_PRIVATE = 0o600


class CheckpointStore:
    """Per-job checkpoint files in one folder (``SEISPROC_HOME/checkpoints`` by default)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder = private_dir(folder)
        self._lock = threading.Lock()
        self._fds: dict[str, int] = {}

    def path(self, job_id: str) -> Path:
        """The job's units file: 4-byte little-endian unit numbers."""
        return self.folder / f"{job_id}.units"

    def plan_path(self, job_id: str) -> Path:
        """The job's recorded plan: :meth:`PlanFingerprint.to_dict` as JSON."""
        return self.folder / f"{job_id}.plan.json"

    def begin(self, job_id: str, fingerprint: PlanFingerprint) -> None:
        """Start a fresh checkpoint for a job (re)started from its first unit.

        The old units are gone, durably, before the new plan is in place, so a crash in
        between leaves at worst a plan with no units (redo everything), never old unit
        numbers paired with a new plan. The plan is written to a temporary file, synced and
        renamed, so a reader sees the old plan or the new one, never half of one.

        >>> import tempfile
        >>> from seisproc.jobs.fingerprint import InputIdentity
        >>> store = CheckpointStore(tempfile.mkdtemp())
        >>> plan = PlanFingerprint(InputIdentity("/d/a.sgy", 3600, 0, "0"), "f", 4, 2, 8)
        >>> store.begin("a1b2", plan)
        >>> store.plan("a1b2") == plan, store.load("a1b2")
        (True, set())
        """
        self.close(job_id)
        self.path(job_id).unlink(missing_ok=True)
        sync_path(self.folder)
        text = json.dumps(fingerprint.to_dict(), indent=1, sort_keys=True) + "\n"
        _replace_durably(self.plan_path(job_id), text.encode("utf-8"))

    def plan(self, job_id: str) -> PlanFingerprint | None:
        """The plan recorded by :meth:`begin`; ``None`` when there is none or it cannot be
        read, and then the job's units must not be trusted: start it over."""
        try:
            data = json.loads(self.plan_path(job_id).read_bytes())
            return PlanFingerprint.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def load(self, job_id: str) -> set[int]:
        """Unit numbers recorded as done; an empty set when there is no checkpoint.

        Numbers at or above the recorded plan's unit count are dropped: they cannot be
        units of that plan. Without a recorded plan nothing is dropped, and nothing should
        be trusted either: check :meth:`plan` first.
        """
        try:
            raw = self.path(job_id).read_bytes()
        except FileNotFoundError:
            return set()
        whole = len(raw) - len(raw) % _RECORD.itemsize
        units = set(np.frombuffer(raw[:whole], dtype=_RECORD).tolist())
        plan = self.plan(job_id)
        if plan is None:
            return units
        return {unit for unit in units if unit < plan.n_units}

    def append(self, job_id: str, unit_number: int) -> None:
        """Record ``unit_number`` as done; durable when this returns."""
        self.append_many(job_id, (unit_number,))

    def append_many(self, job_id: str, unit_numbers: Sequence[int]) -> None:
        """Record several units as done with one write and one ``fsync``; durable when this
        returns.

        The fsync is what a progress update waits for: its median is 0.35 ms, but under
        full CPU load its tail is the few ms the thread waits to be scheduled again, so
        units folded together pay it once.

        >>> import tempfile
        >>> store = CheckpointStore(tempfile.mkdtemp())
        >>> store.append_many("a1b2", [3, 4])
        >>> sorted(store.load("a1b2"))
        [3, 4]
        """
        if not unit_numbers:
            return
        record = np.asarray(unit_numbers, dtype=_RECORD).tobytes()
        with self._lock:
            fd = self._fds.get(job_id)
            if fd is None:
                flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
                fd = os.open(self.path(job_id), flags, _PRIVATE)
                self._fds[job_id] = fd
            os.write(fd, record)
            os.fsync(fd)

    def close(self, job_id: str) -> None:
        """Let go of the job's open units file (the next append reopens it)."""
        with self._lock:
            fd = self._fds.pop(job_id, None)
        if fd is not None:
            os.close(fd)

    def remove(self, job_id: str) -> None:
        """Forget the job's checkpoint, units and plan (it completed or was cancelled)."""
        self.close(job_id)
        self.path(job_id).unlink(missing_ok=True)
        self.plan_path(job_id).unlink(missing_ok=True)


def _replace_durably(path: Path, data: bytes) -> None:
    """Put ``data`` under ``path`` (0600) atomically and durably: temporary file, fsync,
    rename, fsync of the folder so the rename itself survives a power cut."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover of a crash could carry other permissions
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    sync_path(path.parent)
