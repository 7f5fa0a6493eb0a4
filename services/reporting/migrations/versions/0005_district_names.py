"""An assignment's target may carry its name (a district's, for district twinning)."""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # 0002 makes the projections from today's table definitions (see 0004).
    op.execute("ALTER TABLE assignment_targets ADD COLUMN IF NOT EXISTS name text")


def downgrade() -> None:
    op.drop_column("assignment_targets", "name")
