"""A commune assignment may carry on a district's after the 2025 reform: it names the
district assignment it continues.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("assignments", sa.Column("continues", sa.Text))


def downgrade() -> None:
    op.drop_column("assignments", "continues")
