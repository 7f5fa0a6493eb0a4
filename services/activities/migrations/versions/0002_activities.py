"""What the activities service knows of the registry, its read models, idempotency keys."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "known_assignments",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("programme_id", sa.Text, nullable=False),
        sa.Column("start_year", sa.SmallInteger, nullable=False),
        sa.Column("end_year", sa.SmallInteger, nullable=False),
        sa.Column("ended_on", sa.Date),
    )
    op.create_table(
        "known_assignment_communes",
        sa.Column("assignment_id", sa.Text, primary_key=True),
        sa.Column("edition", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
    )
    op.create_index(
        "known_assignment_communes_commune", "known_assignment_communes", ["edition", "code"]
    )
    op.create_table(
        "known_members",
        sa.Column("assignment_id", sa.Text, primary_key=True),
        sa.Column("sponsor_unit_id", sa.Text, primary_key=True),
        sa.Column("joined_on", sa.Date, nullable=False),
        sa.Column("left_on", sa.Date),
    )
    op.create_table(
        "known_units",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_index("known_units_name", "known_units", ["province", "name"])
    op.create_table(
        "activities",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("assignment_id", sa.Text, nullable=False),
        sa.Column("commune_edition", sa.Text, nullable=False),
        sa.Column("commune_code", sa.Text, nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("value_vnd", sa.BigInteger, nullable=False),
        sa.Column("voided", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("facts", JSONB, nullable=False),
    )
    op.create_index("activities_assignment", "activities", ["assignment_id", "occurred_on"])
    op.create_index(
        "activities_commune", "activities", ["commune_edition", "commune_code", "occurred_on"]
    )
    op.create_table(
        "locks",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("quarter", sa.SmallInteger),
        sa.Column("commune_edition", sa.Text),
        sa.Column("commune_code", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("locked_by", sa.Text, nullable=False),
    )
    op.create_table(
        "commitments",
        sa.Column("assignment_id", sa.Text, primary_key=True),
        sa.Column("year", sa.SmallInteger, primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("quarter", sa.SmallInteger),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "commitments",
        "locks",
        "activities",
        "known_units",
        "known_members",
        "known_assignment_communes",
        "known_assignments",
    ):
        op.drop_table(table)
