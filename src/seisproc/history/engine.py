"""SQLAlchemy engines for the history, tuned so several processes can share one SQLite file.

The JobManager of one terminal writes progress while another terminal's ``seisproc jobs``
reads and a third asks for a cancel, all on ``job_history.db``. Three SQLite settings make
that work without "database is locked":

* WAL journal: readers never block the writer, nor the writer them.
* ``busy_timeout`` 10 s: a writer waits for the lock instead of failing at once.
* Write transactions start with ``BEGIN IMMEDIATE``: they take the write lock first. A
  deferred transaction that reads and then writes cannot wait for the lock (SQLite fails
  it with ``SQLITE_BUSY`` at once, busy timeout or not, because its snapshot is stale).

``synchronous=NORMAL`` keeps a commit at well under a millisecond: in WAL mode it cannot
corrupt the database, and only a power cut (not a crashed process) can lose the last
commits. The WAL is copied back into the database (a checkpoint, run by whichever commit
crosses the threshold) every 10,000 pages (~40 MB) instead of SQLite's 1,000: progress
saves rewrite the same few pages, so a rarer checkpoint copies far fewer pages in all,
and it no longer lands on one save in a hundred (measured: save p99 2.1 ms -> 0.9 ms, the
mean a little lower; the save that does checkpoint takes ~10-30 ms).

Python's ``sqlite3`` would otherwise issue its own ``BEGIN`` before DML only; SQLAlchemy
takes over (the recipe in SQLAlchemy's SQLite transaction docs).

WAL needs every process on one host (its index is shared memory): keep the SQLite file
on a local disk, and point drivers on several hosts at PostgreSQL instead.

A new SQLite file is created ``0600`` before SQLite opens it: the history holds flows,
paths and tracebacks, and SQLite gives the ``-wal`` and ``-shm`` files the database
file's mode. A file that already exists keeps its mode (a team may share one on purpose).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url

from seisproc.paths import create_private_file, private_dir, seisproc_home

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DATABASE_URL_ENV",
    "WAL_AUTOCHECKPOINT_PAGES",
    "create_history_engine",
    "default_database_url",
    "writer",
]

DATABASE_URL_ENV = "SEISPROC_DATABASE_URL"
BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 10_000
_WRITE_OPTION = "seisproc_write"


def default_database_url() -> str:
    """``$SEISPROC_DATABASE_URL``, else the SQLite file ``<seisproc home>/job_history.db``.

    The variable lets a team share one PostgreSQL history without code changes
    (``postgresql+psycopg://user@host/seisproc``).
    """
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{seisproc_home() / 'job_history.db'}"


def create_history_engine(url: str) -> Engine:
    """An engine for ``url``; for a SQLite file, WAL and the transaction control above.

    Raises
    ------
    ValueError
        For an in-memory SQLite URL: each pooled connection would see its own empty
        database. Use :class:`seisproc.jobs.memory.MemoryJobStore` instead.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        raise ValueError(f"{url}: an in-memory SQLite history is not shared between "
                         "connections; give a file path, or use MemoryJobStore")
    if not database.startswith("file:"):
        _create_database_file(Path(database).expanduser())
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _create_database_file(path: Path) -> None:
    """An empty, owner-only file for SQLite to open (it keeps an existing one's mode)."""
    private_dir(path.parent)
    if not path.exists():
        create_private_file(path)


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), whose transactions take SQLite's write lock first.

    Use it for every transaction that writes; reads use ``engine`` and stay concurrent.
    Other databases ignore the option.
    """
    return engine.execution_options(**{_WRITE_OPTION: True})


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN: see _begin_sqlite_...
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (the mode is stored in the file, so once is enough).

    The switch needs an exclusive lock, and SQLite reports a competing switch (two
    processes opening a fresh file) as "database is locked" at once, without waiting
    for the busy timeout: retry until the timeout instead.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _begin_sqlite_transaction(connection: Connection) -> None:
    write = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
