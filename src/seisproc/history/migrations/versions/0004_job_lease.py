"""Job ownership is a lease with a fencing token; jobs remember whether they may overwrite.

``lease`` is the fencing token a take-over raises (a save carrying an older one is
refused), ``lease_expires`` the time, in epoch seconds by the database's clock, at which
the owner's lease runs out unless renewed, and ``overwrite`` whether the job was
submitted with overwrite. Existing jobs get token 0, no expiry (a lease that has run
out: their owners never renewed one) and no overwrite.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("lease", "lease_expires", "overwrite")


def upgrade() -> None:
    # Plain ADD COLUMNs with defaults, which SQLite does in place: batch mode would
    # rebuild ``jobs`` and, dropping the old one, cascade-delete job_events (see 0002).
    op.add_column("jobs", sa.Column("lease", sa.BigInteger(), nullable=False,
                                    server_default="0"))
    op.add_column("jobs", sa.Column("lease_expires", sa.Double(), nullable=True))
    op.add_column("jobs", sa.Column("overwrite", sa.Boolean(), nullable=False,
                                    server_default=sa.false()))


def downgrade() -> None:
    """Back to 0003, jobs and their transition logs intact. Plain ``DROP COLUMN`` (SQLite
    3.35 or later does it in place), not batch mode, for the reason above."""
    for name in reversed(_COLUMNS):
        op.drop_column("jobs", name)
