"""Resource samples fall in the bucket their time says, boundaries included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, MetaData, Table, create_engine, insert, select

from seisproc.history.models import UtcDateTime
from seisproc.history.sql import time_bucket


def test_samples_on_bucket_boundaries_open_their_own_bucket_on_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'buckets.db'}")
    table = Table("samples", MetaData(), Column("at", UtcDateTime()))
    table.metadata.create_all(engine)
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    times = [start + timedelta(minutes=2 * n) for n in range(120)]
    times += [start + timedelta(minutes=2 * n, seconds=119, microseconds=999_000)
              for n in range(120)]
    with engine.begin() as connection:
        connection.execute(insert(table), [{"at": t} for t in times])
        buckets = connection.execute(select(time_bucket(table.c.at, 120))).scalars().all()
    expected = [int(t.timestamp()) // 120 for t in times]
    assert buckets == expected
    assert len(set(buckets)) == 120
    engine.dispose()
