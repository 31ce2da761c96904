"""A job's QC mirrored to a file for other processes: what is read is what was measured,
writes follow the units at a bounded rate, the last units are never lost, the folder
stays bounded, and a bad file costs its QC, not the reader."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.qc import GatherQc, JobQc, thumbnail
from seisproc.jobs.qc_files import QcFiles, QcRecorder

S = JobState


def measured(n: int, first: int = 100) -> JobQc:
    """QC of ``n`` gathers: every field varies, one gather has no dominant frequency."""
    gathers = [GatherQc(first + i, 48 + i, 0.5 + i / 7, i % 3, (i % 5 == 0) * i,
                        None if i == 2 else 10.0 + i) for i in range(n)]
    picture = np.sin(np.linspace(0, 40, 48 * 500, dtype=np.float32)).reshape(48, 500)
    return JobQc().extend(gathers, thumbnail(picture, 2.0, first + n - 1))


def test_what_another_process_reads_is_the_qc_that_was_written(tmp_path: Path) -> None:
    files = QcFiles(tmp_path / "qc")
    qc = measured(12)
    files.write("a1", qc)
    read = files.read("a1")
    assert read is not None
    assert read.gathers == qc.gathers  # None stays None, ints stay ints
    assert (read.non_finite, read.dead_traces, read.gathers_seen) == (
        qc.non_finite, qc.dead_traces, 12)
    assert read.thumbnail is not None and qc.thumbnail is not None
    assert read.thumbnail.key_value == qc.thumbnail.key_value
    assert read.thumbnail.dt_ms == qc.thumbnail.dt_ms
    np.testing.assert_allclose(read.thumbnail.data, qc.thumbnail.data, atol=1e-3)  # float16
    assert oct((tmp_path / "qc" / "a1.npz").stat().st_mode & 0o777) == "0o600"


def test_a_job_without_a_file_or_with_a_broken_one_reads_as_none(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    files = QcFiles(tmp_path)
    assert files.read("never") is None and files.modified_ns("never") is None
    files.path("broken").write_bytes(b"PK\x03\x04 not a whole zip")
    with caplog.at_level(logging.WARNING):
        assert files.read("broken") is None
    assert "broken" in caplog.text and str(files.path("broken")) in caplog.text


def test_only_the_newest_files_are_kept(tmp_path: Path) -> None:
    files = QcFiles(tmp_path, keep=3)
    for n in range(5):
        files.write(f"job{n}", measured(1))
        os.utime(files.path(f"job{n}"), ns=(n * 10**9, n * 10**9))  # job4 newest
    files.write("job5", measured(1))
    assert sorted(p.stem for p in tmp_path.glob("*.npz")) == ["job3", "job4", "job5"]


def _unit(job: Job) -> JobEvent:
    return JobEvent(JobEventKind.UNIT_COMPLETED, job)


def test_the_recorder_writes_at_most_once_an_interval_and_the_last_units_when_it_stops(
        tmp_path: Path) -> None:
    """Units landing back to back rewrite the file once per interval, not once each; a
    pause writes what landed since, and so does the end."""
    job = Job(id="r1", name="x", state=S.RUNNING)
    latest = {"qc": measured(1)}
    files = QcFiles(tmp_path)
    recorder = QcRecorder(lambda job_id: latest["qc"], files, interval_s=3600)
    recorder(_unit(job))
    assert files.read("r1").gathers_seen == 1  # the first unit is written at once
    for n in range(2, 6):
        latest["qc"] = measured(n)
        recorder(_unit(job))
    assert files.read("r1").gathers_seen == 1  # within the interval: not rewritten
    recorder(JobEvent(JobEventKind.STATE_CHANGED, Job(id="r1", name="x", state=S.PAUSED)))
    assert files.read("r1").gathers_seen == 5
    latest["qc"] = measured(7)
    recorder(_unit(job))
    recorder(JobEvent(JobEventKind.STATE_CHANGED, Job(id="r1", name="x", state=S.COMPLETED)))
    assert files.read("r1").gathers_seen == 7


def test_a_failed_write_is_logged_once_and_never_reaches_the_job(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "qc"
    blocked.write_text("a file where the folder should be")
    recorder = QcRecorder(lambda job_id: measured(1), QcFiles(blocked), interval_s=0)
    job = Job(id="w1", name="x", state=S.RUNNING)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            recorder(_unit(job))
    assert caplog.text.count("cannot be written") == 1
