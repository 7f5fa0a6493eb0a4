"""Events carry their author (`events.actor`): who made each change.

Revision ID: 0003
Revises: 0002
"""

from shared.migrations import add_event_actor

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_event_actor()


def downgrade() -> None:
    raise NotImplementedError("the event store is append-only: restore from a backup instead")
