"""Jobs remember their batch and what makes their run reproducible.

``jobs.batch`` (indexed) is the id shared by the jobs one ``seisproc run --each``
submitted, so a batch is listed, cancelled and summed up by one indexed read;
``jobs.provenance`` (JSON) holds the versions, the device and the input's identity
recorded at submission, which ``seisproc replay``, ``show`` and ``diff`` read. Existing
jobs get no batch and an empty record.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs with defaults, which SQLite does in place (see 0004).
    op.add_column(
        "jobs", sa.Column("batch", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column(
        "jobs",
        sa.Column(
            "provenance",
            sa.JSON().with_variant(JSONB(), "postgresql"),
            nullable=False,
            server_default="{}",
        ),
    )
    op.create_index("ix_jobs_batch", "jobs", ["batch"])


def downgrade() -> None:
    """Back to 0005, jobs and their transition logs intact (plain ``DROP COLUMN``, as in
    0004's downgrade)."""
    op.drop_index("ix_jobs_batch", table_name="jobs")
    op.drop_column("jobs", "provenance")
    op.drop_column("jobs", "batch")
