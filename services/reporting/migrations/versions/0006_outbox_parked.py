"""Events Kafka refuses for good are set aside (`outbox_parked`) instead of holding back
the outbox.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from shared.migrations import create_parked_outbox

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_parked_outbox()


def downgrade() -> None:
    op.drop_table("outbox_parked")
