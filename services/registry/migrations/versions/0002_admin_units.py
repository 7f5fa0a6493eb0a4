"""Administrative units of both editions and the 2025 lineage of communes."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "admin_units",
        sa.Column("edition", sa.Text, primary_key=True),
        sa.Column("level", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("short_name", sa.Text, nullable=False),
        sa.Column("search_key", sa.Text, nullable=False),
        sa.Column("province_code", sa.Text, nullable=False),
        sa.Column("parent_code", sa.Text),
    )
    op.create_index("admin_units_search", "admin_units", ["level", "search_key"])
    op.create_table(
        "commune_successions",
        sa.Column("old_code", sa.Text, primary_key=True),
        sa.Column("new_code", sa.Text, primary_key=True),
        sa.Column("share", sa.Text, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
    )
    op.create_index("commune_successions_new", "commune_successions", ["new_code"])
    op.create_table(
        "dataset_loads",
        sa.Column("dataset", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("successions", sa.Integer, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("dataset_loads", "commune_successions", "admin_units"):
        op.drop_table(table)
