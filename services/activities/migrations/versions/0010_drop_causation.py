"""Events no longer carry a causation id (`events.causation_id`, `ce_causationid`): no
event is caused by another, so nothing ever set it.

Revision ID: 0010
Revises: 0009
"""

from shared.migrations import drop_event_causation, restore_event_causation

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    drop_event_causation()


def downgrade() -> None:
    restore_event_causation()
