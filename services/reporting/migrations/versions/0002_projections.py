"""The reporting projections.

Projections are derived data: they are created from the code's table definitions
(`services.reporting.adapters.tables`), and a change of their shape is brought in by a
rebuild from the topics into fresh tables, not by altering rows in place.
"""

from alembic import op

from services.reporting.adapters.tables import metadata

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
