"""Imports run as jobs: an import is recorded when it starts and tells its progress (rows
read, recorded, refused) as it goes, then its result, or why it failed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.alter_column("imports", "finished_at", nullable=True)
    op.add_column("imports", sa.Column("status", sa.Text(), nullable=False, server_default="done"))
    op.alter_column("imports", "status", server_default=None)
    op.add_column("imports", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE imports SET updated_at = finished_at")
    op.alter_column("imports", "updated_at", nullable=False)
    op.add_column("imports", sa.Column("failure", sa.Text()))


def downgrade() -> None:
    op.drop_column("imports", "failure")
    op.drop_column("imports", "updated_at")
    op.drop_column("imports", "status")
    op.execute("DELETE FROM imports WHERE finished_at IS NULL")
    op.alter_column("imports", "finished_at", nullable=False)
