"""Databases for the history tests: a SQLite file per test, and a PostgreSQL database per
test on the server ``scripts/test.sh`` starts (its URL in ``SEISPROC_TEST_POSTGRES_URL``).

Without that variable the PostgreSQL tests skip, except under ``CI=true``, where a missing
server is a failure: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url

POSTGRES_URL_ENV = "SEISPROC_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit engine on the test server's maintenance database."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        reason = (f"{POSTGRES_URL_ENV} is not set (scripts/test.sh starts a throwaway "
                  "PostgreSQL and sets it)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true, so the PostgreSQL tests must run, but {reason}")
        pytest.skip(reason)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped (connections and all) after."""
    name = f"seisproc_test_{uuid.uuid4().hex[:16]}"
    with postgres_admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield make_url(postgres_admin.url).set(database=name).render_as_string(hide_password=False)
    with postgres_admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{os.path.join(tmp_path, 'history.db')}"
