"""Control requests carry a message: why the asker wants the pause or cancel.

The owner of a job writes it on the job (``paused by alert qc_non_finite: …``) instead
of its own default (``paused by user``). Requests queued before this revision get an
empty message, which the owner reads as "use your default".

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default, which SQLite does in place (no table rebuild).
    op.add_column("control_requests", sa.Column("message", sa.Text(), nullable=False,
                                                server_default=""))


def downgrade() -> None:
    """Back to 0002; pending requests stay, without their messages. On SQLite the drop
    rebuilds ``control_requests``, which is safe: no other table refers to it."""
    with op.batch_alter_table("control_requests") as batch:
        batch.drop_column("message")
