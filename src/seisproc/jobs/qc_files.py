"""Each running job's QC, mirrored to a file that other processes read.

A job's QC (:class:`~seisproc.jobs.qc.JobQc`) lives in the memory of the process that
runs it. The desktop window shows jobs of every process (a ``seisproc run`` in a
terminal among them) and draws their QC too, so the running process mirrors it to
``<SEISPROC_HOME>/qc/<job id>.npz``: :class:`QcRecorder` subscribes to the job events
and rewrites the file at most every :data:`WRITE_INTERVAL_S` while units land, and once
more when the job stops. A reader (:meth:`QcFiles.read`) gets the QC as of the last
write, a fraction of a second old at most while the job runs.

The file holds the kept gathers' figures as a few numpy columns and the thumbnail
(about 80 kB for :data:`~seisproc.jobs.qc.QC_GATHERS_KEPT` gathers); it is written to a
temporary name and renamed, so a reader never sees half of one. The newest
:data:`QC_FILES_KEPT` files are kept; older ones are removed when a new job writes its
first.

>>> import tempfile
>>> files = QcFiles(tempfile.mkdtemp())
>>> files.write("a1", JobQc().extend([GatherQc(7, 48, 1.5, 0, 0, 25.0)]))
>>> files.read("a1").last.dominant_hz
25.0
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import JobState
from seisproc.jobs.qc import GatherQc, JobQc, Thumbnail
from seisproc.paths import open_private, private_dir

__all__ = ["QC_FILES_KEPT", "QC_FOLDER", "QcFiles", "QcRecorder", "WRITE_INTERVAL_S"]

log = logging.getLogger(__name__)

QC_FOLDER = "qc"
"""The folder of the QC files in ``SEISPROC_HOME``."""
QC_FILES_KEPT = 256
"""QC files kept (the newest); a job's QC beyond them is gone, its results are not."""
WRITE_INTERVAL_S = 0.5
"""A job's QC file is rewritten at most this often while its units land."""
_LANDING = (JobState.QUEUED, JobState.RUNNING)
"""States in which more units land soon; any other state writes the last ones now."""
_COLUMNS = ("key_value", "traces", "rms", "dead_traces", "non_finite", "dominant_hz")


class QcFiles:
    """The QC files in ``folder`` (created on the first write)."""

    def __init__(self, folder: str | os.PathLike[str], keep: int = QC_FILES_KEPT) -> None:
        self.folder = Path(folder)
        self.keep = keep

    def path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.npz"

    def write(self, job_id: str, qc: JobQc) -> None:
        """Replace the job's file with ``qc`` (atomically: a reader sees the old or the new)."""
        path = self.path(job_id)
        first = not path.exists()
        private_dir(self.folder)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        with os.fdopen(open_private(temporary), "wb") as sink:
            arrays: dict[str, Any] = _arrays(qc)  # savez's stubs type keyword arrays as bool
            np.savez(sink, **arrays)
        os.replace(temporary, path)
        if first:
            self._prune()

    def read(self, job_id: str) -> JobQc | None:
        """The job's QC as last written; ``None`` when no process wrote it (or it is
        unreadable: a file of another version, a disk error)."""
        try:
            with open(self.path(job_id), "rb") as stream, np.load(stream) as data:
                return _qc(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("cannot read the QC of job %s from %s: %s", job_id,
                        self.path(job_id), exc)
            return None

    def modified_ns(self, job_id: str) -> int | None:
        """When the job's file was last written (``None``: it has none): a reader
        re-reads only a file that changed."""
        try:
            return self.path(job_id).stat().st_mtime_ns
        except OSError:
            return None

    def _prune(self) -> None:
        files = sorted(self.folder.glob("*.npz"), key=_mtime, reverse=True)
        for old in files[self.keep:]:
            with contextlib.suppress(OSError):
                old.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _arrays(qc: JobQc) -> dict[str, np.ndarray]:
    gathers = qc.gathers
    arrays = {
        "key_value": np.array([g.key_value for g in gathers], dtype=np.int64),
        "traces": np.array([g.traces for g in gathers], dtype=np.int64),
        "rms": np.array([g.rms for g in gathers], dtype=np.float64),
        "dead_traces": np.array([g.dead_traces for g in gathers], dtype=np.int64),
        "non_finite": np.array([g.non_finite for g in gathers], dtype=np.int64),
        "dominant_hz": np.array([np.nan if g.dominant_hz is None else g.dominant_hz
                                 for g in gathers], dtype=np.float64),
        "totals": np.array([qc.non_finite, qc.dead_traces, qc.gathers_seen], dtype=np.int64),
    }
    if qc.thumbnail is not None:
        picture = qc.thumbnail
        arrays["thumbnail"] = picture.data.astype(np.float16)
        arrays["thumbnail_at"] = np.array([picture.key_value, picture.dt_ms])
    return arrays


def _qc(data: np.lib.npyio.NpzFile) -> JobQc:
    columns = [data[name].tolist() for name in _COLUMNS]
    gathers = tuple(
        GatherQc(int(key), int(traces), float(rms), int(dead), int(bad),
                 None if hz != hz else float(hz))  # NaN: no dominant frequency
        for key, traces, rms, dead, bad, hz in zip(*columns, strict=True))
    thumbnail = None
    if "thumbnail" in data.files:
        key, dt_ms = data["thumbnail_at"].tolist()
        thumbnail = Thumbnail(int(key), float(dt_ms), data["thumbnail"].astype(np.float32))
    non_finite, dead, seen = (int(v) for v in data["totals"])
    return JobQc(gathers=gathers, thumbnail=thumbnail, non_finite=non_finite,
                 dead_traces=dead, gathers_seen=seen)


class QcRecorder:
    """A job-event subscriber that mirrors each job's QC to :class:`QcFiles`.

    ``qc_of`` is the running process's QC of a job (``JobManager.qc``). A unit that
    lands rewrites the file when the last write is :data:`WRITE_INTERVAL_S` old; a job
    that stops (paused, ended) gets its last units written at once. A failed write is
    logged once per job and costs that job's QC file, never the job.

    >>> manager.subscribe(QcRecorder(manager.qc, QcFiles(home / QC_FOLDER)))  # doctest: +SKIP
    """

    def __init__(self, qc_of: Callable[[str], JobQc], files: QcFiles, *,
                 interval_s: float = WRITE_INTERVAL_S) -> None:
        self._qc_of = qc_of
        self.files = files
        self._interval_s = interval_s
        self._written: dict[str, float] = {}
        """Jobs with units landed: when their file was last written (monotonic)."""
        self._unwritten: set[str] = set()
        self._failed: set[str] = set()

    def __call__(self, event: JobEvent) -> None:
        job_id = event.job.id
        if event.kind is JobEventKind.UNIT_COMPLETED:
            self._unwritten.add(job_id)
            if time.monotonic() - self._written.get(job_id, -np.inf) >= self._interval_s:
                self._write(job_id)
        elif event.kind is JobEventKind.STATE_CHANGED and event.job.state not in _LANDING:
            if job_id in self._unwritten:
                self._write(job_id)
            if event.job.state.is_terminal():
                self._written.pop(job_id, None)

    def _write(self, job_id: str) -> None:
        self._unwritten.discard(job_id)
        self._written[job_id] = time.monotonic()
        try:
            self.files.write(job_id, self._qc_of(job_id))
        except OSError as exc:
            if job_id not in self._failed:
                self._failed.add(job_id)
                log.warning("the QC of job %s cannot be written for other processes "
                            "(%s): %s", job_id, self.files.path(job_id), exc)
