"""Bring a history database to the schema this version of seisproc expects.

The Alembic scripts ship inside the package (``seisproc/history/migrations``) and the
configuration is built here in code, so an installed seisproc migrates its database on
first use with no ``alembic.ini`` and no command to remember. To write a new revision,
change ``models.py``, then compare against a database at head::

    from alembic import command
    command.revision(alembic_config(url="sqlite:///dev.db"), "add x", autogenerate=True)
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from seisproc.history.engine import writer

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade_to_head",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_POSTGRES_LOCK_KEY = 0x5E15_0001
"""``pg_advisory_xact_lock`` key that serializes concurrent first opens on PostgreSQL."""


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, built without a file.

    Parameters
    ----------
    connection
        Run migrations on this connection, inside its transaction (``env.py`` reads it
        from ``config.attributes``).
    url
        Otherwise, connect to this database (default: :func:`default_database_url`).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest revision shipped with this seisproc."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> bool:
    """Migrate the database to :func:`head_revision`; ``True`` if anything was run.

    Safe when several processes open a fresh database at once: the upgrade runs inside
    one transaction that first takes the database's write lock (SQLite's
    ``BEGIN IMMEDIATE``, a transaction-level advisory lock on PostgreSQL), and Alembic
    reads the version inside that transaction, so the second process finds the schema
    made and does nothing. SQLite and PostgreSQL both roll DDL back with the
    transaction, so a failed upgrade leaves the previous schema intact.
    """
    with engine.connect() as connection:
        if current_revision(connection) == head_revision():
            return False
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_POSTGRES_LOCK_KEY})")
        command.upgrade(alembic_config(connection), "head")
    return True
