"""Analytics: stored days and durations, processor sequences, input sizes, predictions.

Adds to ``jobs`` the columns statistics aggregate without date arithmetic, JSON
unpacking or text munging (``created_day``, ``duration_s``, ``processors_key``,
``error_reason``, ``bytes_total``, ``bytes_done``), the predicted rate and duration
recorded before a job starts, the indexes that keep queries and statistics fast on a
million jobs (replacing ``ix_jobs_state``, which ``ix_jobs_state_created_at`` covers),
and the ``resource_samples`` table. Existing rows are backfilled (their input sizes are
unknown: ``bytes_total`` and ``bytes_done`` stay empty).

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-20
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_BATCH = 5_000

_INDEXES = {
    "ix_jobs_state_created_at": ["state", "created_at"],
    "ix_jobs_processors_key_state_created_at": ["processors_key", "state", "created_at"],
    "ix_jobs_statistics": ["created_day", "type", "state", "processors_key", "duration_s",
                           "traces_done", "bytes_done", "predicted_duration_s"],
    "ix_jobs_durations": ["state", "type", "duration_s", "created_day"],
    "ix_jobs_failures": ["state", "error_type", "error_reason", "created_at"],
}


def upgrade() -> None:
    op.drop_index("ix_jobs_state", table_name="jobs")
    # Plain ADD COLUMNs, which SQLite does in place. Batch mode would rebuild the table
    # (it did, for these), and dropping the old ``jobs`` inside this transaction, where
    # foreign keys cannot be switched off, cascade-deletes every row of job_events.
    op.add_column("jobs", sa.Column("created_day", sa.Date(), nullable=True))
    op.add_column("jobs", sa.Column("processors_key", sa.Text(), nullable=False,
                                    server_default=""))
    op.add_column("jobs", sa.Column("error_reason", sa.String(60), nullable=True))
    for name, kind in (("duration_s", sa.Double()), ("bytes_total", sa.BigInteger()),
                       ("bytes_done", sa.BigInteger()),
                       ("predicted_traces_per_s", sa.Double()),
                       ("predicted_duration_s", sa.Double())):
        op.add_column("jobs", sa.Column(name, kind, nullable=True))
    _backfill_jobs()
    for name, columns in _INDEXES.items():
        op.create_index(name, "jobs", columns)

    op.create_table(
        "resource_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("cpu_percent", sa.Double(), nullable=False),
        sa.Column("memory_percent", sa.Double(), nullable=False),
        sa.Column("gpu_percent", sa.Double(), nullable=True),
        sa.Column("disk_read_mb_s", sa.Double(), nullable=False),
        sa.Column("disk_write_mb_s", sa.Double(), nullable=False),
        sa.Column("running_jobs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_resource_samples"),
    )
    op.create_index("ix_resource_samples_at", "resource_samples", ["at"])


def _backfill_jobs() -> None:
    """Fill ``created_day``, ``processors_key``, ``duration_s`` and ``error_reason`` of the
    rows written at revision 0001 (as ``job_to_row`` at this revision computes them).

    Done in Python, in batches, so one code path serves SQLite and PostgreSQL (their JSON
    and date functions differ); a history at 0001 is young, so this is quick.
    """
    jobs = sa.table("jobs", sa.column("id", sa.String()), sa.column("processors", sa.JSON()),
                    sa.column("created_at", _TIME), sa.column("started_at", _TIME),
                    sa.column("finished_at", _TIME), sa.column("created_day", sa.Date()),
                    sa.column("processors_key", sa.Text()), sa.column("duration_s", sa.Double()),
                    sa.column("error_message", sa.Text()), sa.column("error_reason", sa.Text()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(jobs.c.id, jobs.c.processors, jobs.c.created_at,
                                        jobs.c.started_at, jobs.c.finished_at,
                                        jobs.c.error_message)).all()
    update = (sa.update(jobs).where(jobs.c.id == sa.bindparam("row_id"))
              .values(created_day=sa.bindparam("day"), processors_key=sa.bindparam("key"),
                      duration_s=sa.bindparam("seconds"), error_reason=sa.bindparam("reason")))
    for start in range(0, len(rows), _BATCH):
        batch = [_backfilled(row) for row in rows[start:start + _BATCH]]
        connection.execute(update, batch)


def _backfilled(row: Any) -> dict[str, Any]:
    seconds = None
    if row.started_at is not None and row.finished_at is not None:
        seconds = (row.finished_at - row.started_at).total_seconds()
    reason = None
    if row.error_message is not None:
        reason = re.sub(r"\d+", "#", row.error_message)[:60]
    return {"row_id": row.id, "day": _utc(row.created_at).date(),
            "key": "|".join(str(n) for n in row.processors or ()), "seconds": seconds,
            "reason": reason}


def _utc(value: datetime) -> datetime:
    """SQLite gives the stored UTC digits back naive, PostgreSQL an aware time."""
    return value if value.tzinfo is None else value.astimezone(UTC)


def downgrade() -> None:
    """Back to 0001. On SQLite the column drops rebuild ``jobs``, which empties
    ``job_events`` (see :func:`upgrade`): a developer's tool, not for a history to keep."""
    op.drop_index("ix_resource_samples_at", table_name="resource_samples")
    op.drop_table("resource_samples")
    for name in _INDEXES:
        op.drop_index(name, table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        for column in ("predicted_duration_s", "predicted_traces_per_s", "bytes_done",
                       "bytes_total",
                       "duration_s", "error_reason", "processors_key", "created_day"):
            batch.drop_column(column)
    op.create_index("ix_jobs_state", "jobs", ["state"])
