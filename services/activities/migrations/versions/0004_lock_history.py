"""Locks keep their history: an unlocked lock stays, with when, why and by whom it was
unlocked; a lock is known by its province and id (two provinces may both name a lock
"q4-2024").
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.drop_constraint("locks_pkey", "locks", type_="primary")
    op.create_primary_key("locks_pkey", "locks", ["province", "id"])
    op.add_column("locks", sa.Column("locked_at", sa.DateTime(timezone=True)))
    op.add_column("locks", sa.Column("unlocked_at", sa.DateTime(timezone=True)))
    op.add_column("locks", sa.Column("unlock_reason", sa.Text()))
    op.add_column("locks", sa.Column("unlocked_by", sa.Text()))


def downgrade() -> None:
    op.drop_column("locks", "unlocked_by")
    op.drop_column("locks", "unlock_reason")
    op.drop_column("locks", "unlocked_at")
    op.drop_column("locks", "locked_at")
    op.drop_constraint("locks_pkey", "locks", type_="primary")
    op.create_primary_key("locks_pkey", "locks", ["id"])
