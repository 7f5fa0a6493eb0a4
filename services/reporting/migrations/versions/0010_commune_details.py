"""The rest of the commune report kept per commune as recorded and period, like its
totals (`commune_unit_totals`, `commune_quantities`, `commune_beneficiaries`): the report
adds up a few rows instead of unpacking every activity's facts.

Revision ID: 0010
Revises: 0009
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import insert

from services.reporting.adapters.tables import (
    commune_beneficiaries,
    commune_quantities,
    commune_unit_totals,
)
from services.reporting.service_layer.projection import counted_sums

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    made: dict[str, list[sa.Column[Any]]] = {
        "commune_unit_totals": [sa.Column("sponsor_unit_id", sa.Text, primary_key=True),
                                sa.Column("value_vnd", sa.Numeric(38, 0), nullable=False)],
        "commune_quantities": [sa.Column("category", sa.Text, primary_key=True),
                               sa.Column("unit", sa.Text, primary_key=True),
                               sa.Column("amount", sa.Numeric, nullable=False)],
        "commune_beneficiaries": [sa.Column("kind", sa.Text, primary_key=True),
                                  sa.Column("group", sa.Text, primary_key=True),
                                  sa.Column("count", sa.BigInteger, nullable=False)],
    }  # fmt: skip
    for name, columns in made.items():
        op.create_table(
            name,
            sa.Column("edition", sa.Text, primary_key=True),
            sa.Column("code", sa.Text, primary_key=True),
            sa.Column("year", sa.SmallInteger, primary_key=True),
            sa.Column("quarter", sa.SmallInteger, primary_key=True),
            *columns,
            sa.Column("activities", sa.Integer, nullable=False),
            if_not_exists=True,  # revision 0002 makes every projection table of today's code
        )
    # Counted from the versions already projected, as a rebuild counts them.
    details = {commune_unit_totals, commune_quantities, commune_beneficiaries}
    for table, counted in counted_sums():
        if table in details:
            names = [c.name for c in table.c]
            op.execute(insert(table).from_select(names, counted).on_conflict_do_nothing())


def downgrade() -> None:
    for name in ("commune_beneficiaries", "commune_quantities", "commune_unit_totals"):
        op.drop_table(name)
