"""A commitment may say what it plans to spend and to give (value in VND, a quantity with
its unit), so plan versus actual compares amounts, not only done / not done.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("commitments", sa.Column("planned_value_vnd", sa.BigInteger()))
    op.add_column("commitments", sa.Column("planned_quantity", JSONB()))


def downgrade() -> None:
    op.drop_column("commitments", "planned_quantity")
    op.drop_column("commitments", "planned_value_vnd")
