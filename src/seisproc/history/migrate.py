"""Bring a history database to the schema this version of seisproc expects.

The Alembic scripts ship inside the package (``seisproc/history/migrations``) and the
configuration is built here in code, so an installed seisproc migrates its database on
first use with no ``alembic.ini`` and no command to remember. Alembic itself (a quarter
of a second to import) loads only when a database is not at :data:`SHIPPED_HEAD`, so a
command on an up-to-date history does not pay for it. To write a new revision, change
``models.py``, set :data:`SHIPPED_HEAD` to its id, then compare against a database at
head::

    from alembic import command
    command.revision(alembic_config(url="sqlite:///dev.db"), "add x", autogenerate=True)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect

from seisproc.history.engine import writer

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "SHIPPED_HEAD",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade_to_head",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SHIPPED_HEAD = "0007"
"""The newest revision in ``migrations/versions`` (a test keeps it equal to Alembic's)."""
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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest revision shipped with this seisproc, as Alembic reads the scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

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
        if _at_shipped_head(connection) or current_revision(connection) == head_revision():
            return False
    from alembic import command

    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_POSTGRES_LOCK_KEY})")
        command.upgrade(alembic_config(connection), "head")
    return True


def _at_shipped_head(connection: Connection) -> bool:
    """Whether Alembic's version table names :data:`SHIPPED_HEAD` alone, read without
    Alembic (any other answer goes the slow way, through Alembic)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return [row[0] for row in versions] == [SHIPPED_HEAD]
