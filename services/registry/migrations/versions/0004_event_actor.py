"""Events carry their author (`events.actor`): who made each change.

Revision ID: 0004
Revises: 0003
"""

from shared.migrations import add_event_actor

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_event_actor()


def downgrade() -> None:
    raise NotImplementedError("the event store is append-only: restore from a backup instead")
