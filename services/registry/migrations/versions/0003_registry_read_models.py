"""The registry's read models: sponsor units, programmes, villages, classifications and
assignments, projected from its events.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "sponsor_units",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Text),
    )
    op.create_index("sponsor_units_province", "sponsor_units", ["province", "name"])
    op.create_table(
        "programmes",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("start_year", sa.SmallInteger, nullable=False),
        sa.Column("end_year", sa.SmallInteger, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("legal_bases", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("programmes_province", "programmes", ["province", "start_year"])
    op.create_table(
        "villages",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("commune_edition", sa.Text, nullable=False),
        sa.Column("commune_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_index("villages_commune", "villages", ["commune_edition", "commune_code"])
    op.create_table(
        "commune_classifications",
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("commune_edition", sa.Text, nullable=False),
        sa.Column("commune_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )
    op.create_index(
        "commune_classifications_commune",
        "commune_classifications",
        ["commune_edition", "commune_code", "kind"],
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("programme_id", sa.Text, nullable=False),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("recorded_kind", sa.Text, nullable=False),
        sa.Column("recorded_edition", sa.Text, nullable=False),
        sa.Column("recorded_code", sa.Text, nullable=False),
        sa.Column("recorded_village_id", sa.Text),
        sa.Column("start_year", sa.SmallInteger, nullable=False),
        sa.Column("end_year", sa.SmallInteger, nullable=False),
        sa.Column("legal_basis", JSONB),
        sa.Column("ended_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        "assignments_one_active_per_target",
        "assignments",
        [
            "programme_id",
            "recorded_kind",
            "recorded_edition",
            "recorded_code",
            "recorded_village_id",
        ],
        unique=True,
        postgresql_where=sa.text("ended_on IS NULL"),
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "assignment_targets",
        sa.Column("assignment_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.SmallInteger, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("edition", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("village_id", sa.Text),
        sa.Column("current", sa.Boolean, nullable=False),
    )
    op.create_index("assignment_targets_unit", "assignment_targets", ["edition", "code"])
    op.create_table(
        "assignment_members",
        sa.Column("assignment_id", sa.Text, primary_key=True),
        sa.Column("sponsor_unit_id", sa.Text, primary_key=True),
        sa.Column("joined_on", sa.Date, nullable=False),
        sa.Column("left_on", sa.Date),
    )
    op.create_index("assignment_members_unit", "assignment_members", ["sponsor_unit_id"])
    op.create_table(
        "assignment_leads",
        sa.Column("assignment_id", sa.Text, primary_key=True),
        sa.Column("year", sa.SmallInteger, primary_key=True),
        sa.Column("sponsor_unit_id", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "assignment_leads",
        "assignment_members",
        "assignment_targets",
        "assignments",
        "commune_classifications",
        "villages",
        "programmes",
        "sponsor_units",
    ):
        op.drop_table(table)
