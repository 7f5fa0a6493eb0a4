"""The event store, outbox and consumer tables every service keeps.

Revision ID: 0001
Revises:
"""

from shared.migrations import create_plumbing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing_tables()


def downgrade() -> None:
    raise NotImplementedError("the event store is append-only: restore from a backup instead")
