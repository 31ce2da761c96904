"""SQL expressions that SQLite and PostgreSQL spell differently, written once.

Resource samples are averaged over fixed-width time buckets. SQLite keeps times as ISO
text (see :class:`~seisproc.history.models.UtcDateTime`) and PostgreSQL as
``timestamptz``; the construct compiles to each dialect's own functions so the query
that uses it has a single code path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["time_bucket"]


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
