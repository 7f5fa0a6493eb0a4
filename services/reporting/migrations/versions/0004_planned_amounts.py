"""A commitment may say what it plans to spend and to give (value in VND, a quantity with
its unit), so plan versus actual compares amounts, not only done / not done.
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # 0002 makes the projections from today's table definitions, so a schema made after
    # this change has the columns already; one made before gets them here.
    op.execute("ALTER TABLE commitments ADD COLUMN IF NOT EXISTS planned_value_vnd bigint")
    op.execute("ALTER TABLE commitments ADD COLUMN IF NOT EXISTS planned_quantity jsonb")


def downgrade() -> None:
    op.drop_column("commitments", "planned_quantity")
    op.drop_column("commitments", "planned_value_vnd")
