"""The QC of any job in the table, whoever runs it.

This window's jobs have their QC in its JobManager's memory; a job another process runs
(``seisproc run`` in a terminal) has it in that process, which mirrors it to a file
(:mod:`seisproc.jobs.qc_files`). :class:`JobQcReader` asks the manager first and reads
the file otherwise, again only when the file changed since its last read.
"""

from __future__ import annotations

from seisproc.jobs.manager import JobManager
from seisproc.jobs.qc import JobQc
from seisproc.jobs.qc_files import QcFiles

__all__ = ["JobQcReader"]


class JobQcReader:
    """A :data:`~seisproc.gui.dashboard.details.QcSource` over the manager and the files.

    >>> reader = JobQcReader(manager, QcFiles(seisproc_home() / QC_FOLDER))  # doctest: +SKIP
    >>> reader(job_id).gathers_seen                                        # doctest: +SKIP
    12
    """

    def __init__(self, manager: JobManager, files: QcFiles | None) -> None:
        self._manager = manager
        self._files = files
        self._cached: tuple[str, int, JobQc] | None = None
        """(job id, file time, QC) of the last file read: the pane re-asks often."""

    def __call__(self, job_id: str) -> JobQc:
        own = self._manager.qc(job_id)
        if own.gathers_seen or self._files is None:
            return own
        written = self._files.modified_ns(job_id)
        if written is None:
            return own
        if self._cached is not None and self._cached[:2] == (job_id, written):
            return self._cached[2]
        qc = self._files.read(job_id) or own
        self._cached = (job_id, written, qc)
        return qc
