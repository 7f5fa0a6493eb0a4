"""The reporting service's projections, beside the shared event plumbing.

Everything here is derived from the registry's and the activities' events and can be
derived again (`service_layer.rebuild`). Activities are kept as versions with the time
each took effect, so that a report can be asked "as of" a moment; the current version
has `valid_to` NULL.
"""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

programmes = Table(
    "programmes",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("start_year", SmallInteger, nullable=False),
    Column("end_year", SmallInteger, nullable=False),
)

sponsor_units = Table(
    "sponsor_units",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Text, primary_key=True),
    Column("programme_id", Text, nullable=False),
    Column("province", Text, nullable=False),
    Column("start_year", SmallInteger, nullable=False),
    Column("end_year", SmallInteger, nullable=False),
    Column("ended_on", Date),
)

assignment_targets = Table(
    "assignment_targets",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("seq", SmallInteger, primary_key=True),  # 1 as made, then successors
    Column("kind", Text, nullable=False),
    Column("edition", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("current", Boolean, nullable=False),
    Column("name", Text),  # a district's name, as the registry gave it
)

members = Table(
    "members",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("sponsor_unit_id", Text, primary_key=True),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date),
)

leads = Table(
    "leads",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("sponsor_unit_id", Text, nullable=False),
)

communes = Table(
    "communes",
    metadata,
    Column("edition", Text, primary_key=True),
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("province_code", Text, nullable=False),
)

successions = Table(
    "successions",
    metadata,
    Column("old_code", Text, primary_key=True),  # a pre-2025 commune
    # its 2025 commune when it went wholly into one; NULL when it was split
    Column("new_code", Text),
    Column("new_province", Text),
    Column("successors", ARRAY(Text), nullable=False),
)

activity_versions = Table(
    "activity_versions",
    metadata,
    Column("activity_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True)),
    Column("event_id", Uuid, nullable=False),
    Column("province", Text, nullable=False),
    Column("assignment_id", Text, nullable=False),
    Column("commune_edition", Text, nullable=False),
    Column("commune_code", Text, nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("category", Text, nullable=False),
    Column("value_vnd", BigInteger, nullable=False),
    Column("voided", Boolean, nullable=False),
    Column("facts", JSONB, nullable=False),
    Index(
        "activity_versions_commune",
        "commune_edition",
        "commune_code",
        "occurred_on",
        postgresql_where=text("valid_to IS NULL"),
    ),
    Index(
        "activity_versions_province",
        "province",
        "occurred_on",
        postgresql_where=text("valid_to IS NULL"),
    ),
    Index(
        "activity_versions_assignment", "assignment_id", postgresql_where=text("valid_to IS NULL")
    ),
)

pending_activity_events = Table(
    "pending_activity_events",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("activity_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("envelope", JSONB, nullable=False),
    Index("pending_activity_events_activity", "activity_id"),
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

province_totals = Table(
    "province_totals",
    metadata,
    # What the province summary reads without scanning every activity: activities in
    # force, as recorded, per province, year, quarter and category.
    Column("province", Text, primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("quarter", SmallInteger, primary_key=True),
    Column("category", Text, primary_key=True),
    # a sum without a bound (each amount is at most MAX_VND, their number is not)
    Column("value_vnd", Numeric(38, 0), nullable=False),
    Column("activities", Integer, nullable=False),
)


def _kept_per_commune(name: str, *columns: Column[Any]) -> Table:
    """Sums kept per commune as recorded, year and quarter: `columns` are the rest of the
    key and the measure; every row also counts its activities, so that a row whose
    activities were all corrected away or voided (kept, at zero) is left out of a report."""
    return Table(
        name,
        metadata,
        Column("edition", Text, primary_key=True),
        Column("code", Text, primary_key=True),
        Column("year", SmallInteger, primary_key=True),
        Column("quarter", SmallInteger, primary_key=True),
        *columns,
        Column("activities", Integer, nullable=False),
    )


# The province's totals per commune: what a 2025 province's figures add up, mapped, over
# the communes that went into it (thousands of rows, not every activity).
commune_totals = _kept_per_commune(
    "commune_totals",
    Column("category", Text, primary_key=True),
    Column("value_vnd", Numeric(38, 0), nullable=False),
)

# The rest of a commune report kept the same way: what its sponsor units gave, the
# quantities, the people who benefited. The report adds these few rows up instead of
# unpacking every activity's facts (a commune of the 3,000,000-event benchmark has 1,500).
commune_unit_totals = _kept_per_commune(
    "commune_unit_totals",
    Column("sponsor_unit_id", Text, primary_key=True),
    Column("value_vnd", Numeric(38, 0), nullable=False),  # the unit's shares
)
commune_quantities = _kept_per_commune(
    "commune_quantities",
    Column("category", Text, primary_key=True),
    Column("unit", Text, primary_key=True),  # cows and pigs are both "con": never one number
    Column("amount", Numeric, nullable=False),
)
commune_beneficiaries = _kept_per_commune(
    "commune_beneficiaries",
    Column("kind", Text, primary_key=True),
    Column("group", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
)

PROJECTIONS = (
    programmes,
    sponsor_units,
    assignments,
    assignment_targets,
    members,
    leads,
    communes,
    successions,
    activity_versions,
    pending_activity_events,
    commitments,
    province_totals,
    commune_totals,
    commune_unit_totals,
    commune_quantities,
    commune_beneficiaries,
)
"""Every table a rebuild derives again from the topics."""
