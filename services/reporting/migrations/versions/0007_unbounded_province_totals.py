"""The province totals hold any sum: `province_totals.value_vnd` becomes `numeric(38, 0)`
(each amount is at most `shared.bounds.MAX_VND`; how many there are is not bounded).
"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute("ALTER TABLE province_totals ALTER COLUMN value_vnd TYPE numeric(38, 0)")


def downgrade() -> None:
    op.execute("ALTER TABLE province_totals ALTER COLUMN value_vnd TYPE bigint")
