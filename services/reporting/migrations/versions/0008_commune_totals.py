"""Totals per commune as recorded (`commune_totals`), kept like the province totals: a
2025 province's figures, mapped, add up its communes' instead of every activity.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "commune_totals",
        sa.Column("edition", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("year", sa.SmallInteger, primary_key=True),
        sa.Column("quarter", sa.SmallInteger, primary_key=True),
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("value_vnd", sa.Numeric(38, 0), nullable=False),
        sa.Column("activities", sa.Integer, nullable=False),
        if_not_exists=True,  # revision 0002 makes every projection table of today's code
    )
    op.execute(
        """
        INSERT INTO commune_totals
        SELECT commune_edition, commune_code, extract(year FROM occurred_on),
               extract(quarter FROM occurred_on), category, sum(value_vnd), count(*)
        FROM activity_versions WHERE valid_to IS NULL AND NOT voided
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_table("commune_totals")
