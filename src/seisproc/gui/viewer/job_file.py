"""Which file of a job the viewer shows: the output once the job wrote it, else the input.

A job writes a hidden partial file and renames it to its output only when it completes,
so until then the output path holds nothing, or another run's file (a rerun with
``--overwrite``): the input is the data the job is working on.
"""

from __future__ import annotations

from pathlib import Path

from seisproc.jobs.model import Job, JobState

__all__ = ["job_file"]


def job_file(job: Job) -> tuple[Path, str]:
    """The file to show for ``job`` and where it comes from, as the viewer's title says it.

    >>> job_file(completed_job)            # doctest: +SKIP
    (PosixPath('/data/out.sgy'), 'output of job “line-7” (0dc6702f5f78)')
    """
    output = Path(job.output) if job.output else None
    if job.state is JobState.COMPLETED and output is not None and output.is_file():
        return output, f"output of job “{job.name}” ({job.id})"
    return Path(job.input), f"input of job “{job.name}” ({job.id}): its output is not written yet"
