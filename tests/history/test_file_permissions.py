"""The SQLite history (and SQLite's -wal and -shm files beside it) is private: 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from seisproc.history.engine import DATABASE_URL_ENV
from seisproc.history.storage import JobHistoryStorage
from seisproc.jobs.model import Job


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_history_database_and_its_wal_and_shm_files_are_0600(
        seisproc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under umask 000, so SQLite's own default (0644 less the umask) would show."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    previous = os.umask(0)
    try:
        store = JobHistoryStorage()
        try:
            store.save_job(Job(id="a1b2c3d4e5f6", name="demo"))
            files = [seisproc_home / f"job_history.db{suffix}" for suffix in ("", "-wal", "-shm")]
            assert {f.name: mode_of(f) for f in files} == {f.name: 0o600 for f in files}
        finally:
            store.close()
    finally:
        os.umask(previous)
    assert mode_of(seisproc_home) == 0o700


def test_an_existing_history_file_keeps_its_mode(tmp_path: Path) -> None:
    """A team may share one SQLite file on one host on purpose."""
    path = tmp_path / "shared.db"
    path.touch()
    os.chmod(path, 0o660)
    store = JobHistoryStorage(f"sqlite:///{path}")
    store.close()
    assert mode_of(path) == 0o660
