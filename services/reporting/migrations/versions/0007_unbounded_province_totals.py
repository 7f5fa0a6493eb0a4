"""The province totals hold any sum: `province_totals.value_vnd` becomes `numeric(38, 0)`
(each amount is at most `shared.bounds.MAX_VND`; how many there are is not bounded).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE province_totals ALTER COLUMN value_vnd TYPE numeric(38, 0)")


def downgrade() -> None:
    op.execute("ALTER TABLE province_totals ALTER COLUMN value_vnd TYPE bigint")
