"""Jobs remember the jobs they wait for.

``jobs.waits_for`` (JSON list of job ids) is what a WAITING job (``seisproc run
--after``, a pipeline's later flows) waits for: kept in the history, the wait survives
the process that submitted it, and any later ``seisproc resume`` takes it up. Existing
jobs wait for nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default, which SQLite does in place (see 0004).
    op.add_column(
        "jobs",
        sa.Column("waits_for", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False,
                  server_default="[]"),
    )


def downgrade() -> None:
    """Back to 0006, jobs intact; a job that was WAITING keeps its state (0006 code
    refuses it like any unknown state: downgrade only after those jobs ended)."""
    op.drop_column("jobs", "waits_for")
