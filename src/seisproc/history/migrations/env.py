"""Alembic environment of the job history; configured in code by ``seisproc.history.migrate``.

Online, migrations run on the connection handed over in ``config.attributes`` (inside the
caller's transaction, which holds the database's write lock), or else on a connection to
the ``sqlalchemy.url`` option or the default history database. Offline (``--sql``), they
print the SQL for a DBA to run on a shared PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from seisproc.history.engine import create_history_engine, default_database_url, writer
from seisproc.history.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or default_database_url()


def _run_on(connection: Connection) -> None:
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"},
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_history_engine(_url())
    try:
        with writer(engine).begin() as own_connection:
            _run_on(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
