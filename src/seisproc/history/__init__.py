"""Durable job history: the SQLAlchemy adapter of :class:`seisproc.jobs.ports.JobStore`.

SQLite under ``SEISPROC_HOME`` by default; ``SEISPROC_DATABASE_URL`` (or a URL argument)
switches to a shared PostgreSQL. The schema is migrated by the Alembic scripts shipped in
``seisproc/history/migrations`` when a database is first opened.
"""

from seisproc.history.storage import JobHistoryStorage

__all__ = ["JobHistoryStorage"]
