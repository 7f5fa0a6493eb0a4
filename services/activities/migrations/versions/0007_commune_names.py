"""The activities service keeps the communes' names (both editions, from the registry's
lineage events), so a refusal names the commune as well as its code.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "known_communes",
        sa.Column("edition", sa.Text(), primary_key=True),
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("known_communes")
