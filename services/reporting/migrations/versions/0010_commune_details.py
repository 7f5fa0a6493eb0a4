"""The rest of the commune report kept per commune as recorded and period, like its
totals (`commune_unit_totals`, `commune_quantities`, `commune_beneficiaries`): the report
adds up a few rows instead of unpacking every activity's facts.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


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
    # Counted from the versions already projected, as a rebuild counts them, in SQL of this
    # revision's own (the code's counting may change; this revision must not). A reporting
    # process still on the code before this revision keeps adding activities without these
    # sums: stop them all before upgrading, or rebuild after (README, "reporting").
    place = (
        "a.commune_edition, a.commune_code, "
        "extract(year FROM a.occurred_on)::int, extract(quarter FROM a.occurred_on)::int"
    )
    for table, key, measure, unpacked, where in (
        ("commune_unit_totals", "s.sponsor_unit_id", "s.value_vnd",
         "jsonb_to_recordset(nullif(a.facts->'contributions', 'null'))"
         " AS s(sponsor_unit_id text, value_vnd numeric)", ""),
        ("commune_quantities", "a.category, q.unit", "q.amount",
         "jsonb_to_record(nullif(a.facts->'quantity', 'null')) AS q(amount numeric, unit text)",
         "AND q.unit IS NOT NULL"),
        ("commune_beneficiaries", 'b.kind, b."group"', "b.count",
         "jsonb_to_recordset(nullif(a.facts->'beneficiaries', 'null'))"
         ' AS b(kind text, "group" text, count bigint)', ""),
    ):  # fmt: skip
        op.execute(
            f"""
            INSERT INTO {table}
            SELECT {place}, {key},
                   coalesce(sum({measure}) FILTER (WHERE a.valid_to IS NULL), 0),
                   count(*) FILTER (WHERE a.valid_to IS NULL)
            FROM activity_versions a JOIN {unpacked} ON true
            WHERE NOT a.voided {where}
            GROUP BY {place}, {key}
            ON CONFLICT DO NOTHING
            """
        )


def downgrade() -> None:
    for name in ("commune_beneficiaries", "commune_quantities", "commune_unit_totals"):
        op.drop_table(name)
