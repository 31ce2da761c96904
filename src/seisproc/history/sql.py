"""SQL expressions that SQLite and PostgreSQL spell differently, written once.

Resource samples are averaged over fixed-width time buckets. SQLite keeps times as ISO
text (see :class:`~seisproc.history.models.UtcDateTime`) and PostgreSQL as
``timestamptz``; the construct compiles to each dialect's own functions so the query
that uses it has a single code path. Job leases expire by the database's own clock
(:class:`db_epoch`), the one clock every host sharing the history agrees on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Double, Integer, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["db_epoch", "time_bucket"]


class time_bucket(FunctionElement[int]):  # noqa: N801
    """``floor(epoch seconds / width_s)`` of a time column: the number of its bucket.

    ``time_bucket(column, 3600)`` numbers hours since 1970-01-01 UTC; multiply by the
    width to get the bucket's start back.
    """

    type = BigInteger()
    inherit_cache = True
    name = "time_bucket"

    def __init__(self, column: ColumnElement[Any], width_s: int) -> None:
        # The width is written into the SQL, not bound: PostgreSQL only matches a SELECT
        # expression with its GROUP BY twin when both are textually the same.
        super().__init__(column, literal_column(str(int(width_s)), Integer()))


@compiles(time_bucket, "sqlite")
def _time_bucket_sqlite(element: time_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, width = (compiler.process(c, **kw) for c in element.clauses)
    # Whole epoch seconds, then integer division: exact, unlike julianday's floating days
    # (09:02:00 fell into the 2-minute bucket before it). Dropping the fraction of a second
    # never crosses a boundary, as widths are whole seconds; times before 1970 never occur
    # in a job history, so truncation toward zero is the floor.
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / {width})"


@compiles(time_bucket, "postgresql")
def _time_bucket_postgresql(element: time_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, width = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(extract(epoch FROM {column}) / {width}) AS BIGINT)"


class db_epoch(FunctionElement[float]):  # noqa: N801
    """Now, in seconds since 1970-01-01 UTC (a float), by the database server's clock.

    Used for job leases: two hosts whose clocks disagree, or one whose NFS stalls, still
    agree on when a lease runs out. PostgreSQL reads ``clock_timestamp()`` (the time of
    the call, not of the transaction's start); SQLite has a millisecond clock.
    """

    type = Double()
    inherit_cache = True
    name = "db_epoch"


@compiles(db_epoch, "sqlite")
def _db_epoch_sqlite(element: db_epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return "((julianday('now') - 2440587.5) * 86400.0)"


@compiles(db_epoch, "postgresql")
def _db_epoch_postgresql(element: db_epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return "CAST(extract(epoch FROM clock_timestamp()) AS DOUBLE PRECISION)"
