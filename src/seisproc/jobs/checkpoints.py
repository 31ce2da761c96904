"""Checkpoints: which units of a job are done, durable after every unit.

A checkpoint is a bitmap, one bit per unit of the plan (``<job id>.done``: unit ``n`` is
bit ``n % 8`` of byte ``n // 8``), so a job of 1,000,000 units keeps 125 KB, however many
times its units were redone. The units a driver gets back together are set with one
``pwrite`` of the bytes from the first changed to the last and one ``fsync`` (0.35 ms
median here) before any of them is announced as done. Bits only ever go from 0 to 1, and
a byte written holds the bits set before it, so a process killed mid-write leaves each
byte old or new: at worst a unit done is not recorded and is redone, and since units
rewrite the same bytes at the same positions the output is unchanged. The traces of a
unit are durable in the output before its bit is written, so the checkpoint never claims
work a killed process did not do.

Unit numbers mean something only for the plan that cut the units, so a (re)started job
first records its :class:`~seisproc.jobs.fingerprint.PlanFingerprint` with
:meth:`CheckpointStore.begin` (``<job id>.plan.json`` beside ``<job id>.done``); a resume
compares it with a fresh fingerprint before trusting any unit. A checkpoint without a
readable plan (one written by a version before plans were recorded, or a torn write) is
worth nothing: :meth:`CheckpointStore.plan` returns ``None`` and the job starts over.
Both files are private to the user (0600): they name the user's files.

The previous format, an append-only ``<job id>.units`` of 4-byte unit numbers (4 MB for
a million units, growing with every redone unit), is still read: a job paused or
interrupted before the upgrade resumes where it stopped, and its numbers move into the
bitmap on that first load (:meth:`CheckpointStore.load`). Refusing them would have thrown
away the work of every paused job, some parked for later by closing the desktop.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from seisproc.io.writer import sync_path
from seisproc.jobs.fingerprint import PlanFingerprint
from seisproc.paths import private_dir

__all__ = ["CheckpointStore", "UnitSet"]

_LEGACY_RECORD = np.dtype("<u4")
_PRIVATE = 0o600
SYNC_THREADS = 4
"""Checkpoint files of one batch synced at once, besides the caller's own."""


class UnitSet(Set[int]):
    """Unit numbers, one bit each: the done units of a job, in memory as on disk.

    >>> done = UnitSet.of([0, 9])
    >>> done.add(3), done.add(3), sorted(done), 9 in done, len(done)
    (True, False, [0, 3, 9], True, 3)
    """

    def __init__(self, bits: bytes | bytearray = b"") -> None:
        self._bits = bytearray(bits)
        self._count = int(np.unpackbits(np.frombuffer(self._bits, np.uint8)).sum())

    @classmethod
    def of(cls, numbers: Iterable[int]) -> UnitSet:
        units = cls()
        for number in numbers:
            units.add(number)
        return units

    @property
    def bits(self) -> bytearray:
        """The bitmap as stored: unit ``n`` is bit ``n % 8`` of byte ``n // 8``."""
        return self._bits

    def add(self, number: int) -> bool:
        """Mark ``number``; True when it was not marked yet."""
        byte, bit = divmod(number, 8)
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits)))
        elif self._bits[byte] >> bit & 1:
            return False
        self._bits[byte] |= 1 << bit
        self._count += 1
        return True

    def below(self, n_units: int) -> UnitSet:
        """Only the numbers under ``n_units`` (a plan's units)."""
        nbytes = -(-n_units // 8)
        bits = bytearray(self._bits[:nbytes])
        if n_units % 8 and len(bits) == nbytes:
            bits[-1] &= (1 << n_units % 8) - 1
        return UnitSet(bits)

    def numbers(self) -> np.ndarray:
        """The numbers, ascending, int64."""
        flags = np.unpackbits(np.frombuffer(self._bits, np.uint8), bitorder="little")
        return np.flatnonzero(flags)

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int | np.integer) or number < 0:
            return False
        byte, bit = divmod(int(number), 8)
        return byte < len(self._bits) and bool(self._bits[byte] >> bit & 1)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        return iter(self.numbers().tolist())

    def __repr__(self) -> str:
        return f"UnitSet({len(self)} units)"


class CheckpointStore:
    """Per-job checkpoint files in one folder (``SEISPROC_HOME/checkpoints`` by default)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder = private_dir(folder)
        self._lock = threading.Lock()
        self._fds: dict[str, int] = {}
        self._done: dict[str, UnitSet] = {}
        """The bitmap of each job with an open file, as written."""
        self._syncers: ThreadPoolExecutor | None = None

    def path(self, job_id: str) -> Path:
        """The job's done units: a bitmap (see the module docstring)."""
        return self.folder / f"{job_id}.done"

    def legacy_path(self, job_id: str) -> Path:
        """The job's done units as earlier versions kept them: 4-byte unit numbers."""
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
        >>> store.plan("a1b2") == plan, len(store.load("a1b2"))
        (True, 0)
        """
        self.close(job_id)
        self.path(job_id).unlink(missing_ok=True)
        self.legacy_path(job_id).unlink(missing_ok=True)
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

    def load(self, job_id: str) -> UnitSet:
        """Units recorded as done; empty when there is no checkpoint.

        Numbers at or above the recorded plan's unit count are dropped: they cannot be
        units of that plan. Without a recorded plan nothing is dropped, and nothing should
        be trusted either: check :meth:`plan` first. Units of the earlier format
        (:meth:`legacy_path`) are moved into the bitmap, durably, then that file goes.
        """
        with self._lock:
            done = self._read(job_id)
        plan = self.plan(job_id)
        return done if plan is None else done.below(plan.n_units)

    def _read(self, job_id: str) -> UnitSet:
        """The bitmap on disk, with any legacy numbers moved into it; the lock is held."""
        try:
            done = UnitSet(self.path(job_id).read_bytes())
        except FileNotFoundError:
            done = UnitSet()
        legacy = self.legacy_path(job_id)
        try:
            raw = legacy.read_bytes()
        except FileNotFoundError:
            return done
        whole = len(raw) - len(raw) % _LEGACY_RECORD.itemsize  # a torn last record: redo
        for number in np.frombuffer(raw[:whole], dtype=_LEGACY_RECORD).tolist():
            done.add(number)
        _replace_durably(self.path(job_id), bytes(done.bits))
        legacy.unlink()
        sync_path(self.folder)
        return done

    def append(self, job_id: str, unit_number: int) -> None:
        """Record ``unit_number`` as done; durable when this returns."""
        self.append_many(job_id, (unit_number,))

    def append_many(self, job_id: str, unit_numbers: Sequence[int]) -> None:
        """Record several units as done with one write and one ``fsync``; durable when
        this returns.

        The fsync is what a progress update waits for: its median is 0.35 ms, but under
        full CPU load its tail is the few ms the thread waits to be scheduled again, so
        units folded together pay it once. It runs outside the lock, on a duplicate of the
        file's descriptor (a :meth:`close` meanwhile cannot pull it away), so several
        jobs' files sync at once (:meth:`append_batch`).

        >>> import tempfile
        >>> store = CheckpointStore(tempfile.mkdtemp())
        >>> store.append_many("a1b2", [3, 4])
        >>> sorted(store.load("a1b2"))
        [3, 4]
        """
        if not unit_numbers:
            return
        with self._lock:
            fd = os.dup(self._write(job_id, unit_numbers))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def append_batch(self, units: Mapping[str, Sequence[int]]) -> dict[str, OSError]:
        """:meth:`append_many` for several jobs at once, one thread per file; returns the
        jobs whose units could not be recorded, with the error.

        A job's units are durable once this returns without an error for it. Each fsync
        is a wait for the disk (a few ms while the workers write their traces), so the
        units of a batch's last job no longer wait for every other job's fsync first.

        >>> import tempfile
        >>> store = CheckpointStore(tempfile.mkdtemp())
        >>> store.append_batch({"a1b2": [3], "c3d4": [0, 1]})
        {}
        >>> sorted(store.load("a1b2")), sorted(store.load("c3d4"))
        ([3], [0, 1])
        """
        jobs = list(units.items())
        others = []
        if len(jobs) > 1:
            syncers = self._syncers = self._syncers or ThreadPoolExecutor(
                SYNC_THREADS, thread_name_prefix="seisproc-checkpoint"
            )
            others = [(job_id, syncers.submit(self.append_many, job_id, numbers))
                      for job_id, numbers in jobs[1:]]
        failures: dict[str, OSError] = {}
        for job_id, numbers in jobs[:1]:
            try:
                self.append_many(job_id, numbers)
            except OSError as error:
                failures[job_id] = error
        for job_id, appended in others:
            try:
                appended.result()
            except OSError as error:
                failures[job_id] = error
        return failures

    def _write(self, job_id: str, unit_numbers: Sequence[int]) -> int:
        """Set the units' bits in the job's file (opened once), not yet synced; its
        descriptor. The lock is held."""
        fd = self._fds.get(job_id)
        if fd is None:
            self._done[job_id] = self._read(job_id)
            fd = os.open(self.path(job_id), os.O_WRONLY | os.O_CREAT, _PRIVATE)
            self._fds[job_id] = fd
        done = self._done[job_id]
        changed = [n // 8 for n in unit_numbers if done.add(n)]
        if changed:  # one span: its other bytes are rewritten as they already are
            first, stop = min(changed), max(changed) + 1
            os.pwrite(fd, done.bits[first:stop], first)
        return fd

    def close(self, job_id: str) -> None:
        """Let go of the job's open file (the next append reopens it)."""
        with self._lock:
            fd = self._fds.pop(job_id, None)
            self._done.pop(job_id, None)
        if fd is not None:
            os.close(fd)

    def remove(self, job_id: str) -> None:
        """Forget the job's checkpoint, units and plan (it completed or was cancelled)."""
        self.close(job_id)
        self.path(job_id).unlink(missing_ok=True)
        self.legacy_path(job_id).unlink(missing_ok=True)
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
