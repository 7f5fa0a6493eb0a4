"""The activities service's tables, beside the shared event plumbing (`shared.tables`).

`known_*`: what it has heard of the registry, from the registry's events on Kafka (its own
read model; it never calls the registry). The rest are read models of its own events,
written in the same transaction as the append. `idempotency_keys` remembers the answer
to each write that carried an `Idempotency-Key`.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

known_assignments = Table(
    "known_assignments",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("programme_id", Text, nullable=False),
    Column("start_year", SmallInteger, nullable=False),
    Column("end_year", SmallInteger, nullable=False),
    Column("ended_on", Date),
)

known_assignment_communes = Table(
    "known_assignment_communes",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("edition", Text, primary_key=True),
    Column("code", Text, primary_key=True),
    Index("known_assignment_communes_commune", "edition", "code"),
)

known_members = Table(
    "known_members",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("sponsor_unit_id", Text, primary_key=True),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date),
)

known_units = Table(
    "known_units",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("name", Text, nullable=False),
    Index("known_units_name", "province", "name"),
)

known_communes = Table(  # names of both editions' communes, from the registry's lineage
    "known_communes",
    metadata,
    Column("edition", Text, primary_key=True),
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("assignment_id", Text, nullable=False),
    Column("commune_edition", Text, nullable=False),
    Column("commune_code", Text, nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("category", Text, nullable=False),
    Column("value_vnd", BigInteger, nullable=False),
    Column("voided", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("facts", JSONB, nullable=False),
    Index("activities_assignment", "assignment_id", "occurred_on"),
    Index("activities_commune", "commune_edition", "commune_code", "occurred_on"),
)

locks = Table(  # every lock ever made, with its unlocking: the history stays
    "locks",
    metadata,
    Column("province", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("year", SmallInteger, nullable=False),
    Column("quarter", SmallInteger),
    Column("commune_edition", Text),
    Column("commune_code", Text),
    Column("reason", Text, nullable=False),
    Column("locked_by", Text, nullable=False),
    Column("locked_at", DateTime(timezone=True)),
    Column("unlocked_at", DateTime(timezone=True)),
    Column("unlock_reason", Text),
    Column("unlocked_by", Text),
)

commitments = Table(
    "commitments",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("description", Text, nullable=False),
    Column("category", Text),
    Column("quarter", SmallInteger),
    Column("planned_value_vnd", BigInteger),
    Column("planned_quantity", JSONB),  # {"amount": "20", "unit": "con"}
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", Text, primary_key=True),
    Column("fingerprint", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("body", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

imports = Table(  # who imported which file when, and what became of its rows
    "imports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("province", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("actor", JSONB, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),  # NULL while it runs
    Column("rows", Integer, nullable=False),
    Column("recorded", Integer, nullable=False),
    Column("already_recorded", Integer, nullable=False),
    Column("refused_rows", Integer, nullable=False),
    Column("errors", JSONB, nullable=False),  # the first KEPT_ERRORS, by row and column
    Column("status", Text, nullable=False),  # running, done, failed
    Column("updated_at", DateTime(timezone=True), nullable=False),  # after each chunk
    Column("failure", Text),  # why it failed (the file, or the service stopping)
    Index("imports_province", "province", "started_at"),
)

READ_MODELS = (activities, locks, commitments)
"""The tables derived from the service's own events (a rebuild empties and refills them)."""
