"""A change feed: every change of a job stamps its row with the history's next revision.

``jobs.revision`` (indexed) is the revision of the job's last change, one more than the
highest before it, so a reader (the desktop application) asks for the jobs changed after
the revision it last saw at the cost of an index seek, whatever the size of the history
(see ``seisproc.history.changes``). ``revision_floor`` holds the highest revision as of
the last cleanup, which may delete the job holding it. Existing jobs get revision 0 and
the floor starts at 0: they are older than anything a reader will ask about.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default, which SQLite does in place (see 0004).
    op.add_column("jobs", sa.Column("revision", sa.BigInteger(), nullable=False,
                                    server_default="0"))
    op.create_index("ix_jobs_revision", "jobs", ["revision"])
    floor = op.create_table(
        "revision_floor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision_floor")),
    )
    op.bulk_insert(floor, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    """Back to 0004, jobs and their transition logs intact (plain ``DROP COLUMN``, as in
    0004's downgrade)."""
    op.drop_table("revision_floor")
    op.drop_index("ix_jobs_revision", table_name="jobs")
    op.drop_column("jobs", "revision")
