"""The registry's own tables, beside the shared event plumbing (`shared.tables`).

The administrative units are reference data loaded from a dataset. Everything else is a
read model: rows the projection (`service_layer.projection`) derives from the registry's
events, in the same transaction as the append, and can derive again from the event store.
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
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

admin_units = Table(
    "admin_units",
    metadata,
    Column("edition", Text, primary_key=True),
    Column("level", Text, primary_key=True),
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("short_name", Text, nullable=False),
    Column("search_key", Text, nullable=False),
    Column("province_code", Text, nullable=False),
    Column("parent_code", Text),
    Index("admin_units_search", "level", "search_key"),  # names with or without diacritics
)

commune_successions = Table(
    "commune_successions",
    metadata,
    Column("old_code", Text, primary_key=True),  # a pre-2025 commune
    Column("new_code", Text, primary_key=True),  # a 2025 commune
    Column("share", Text, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Index("commune_successions_new", "new_code"),  # a 2025 commune's predecessors
)

dataset_loads = Table(
    "dataset_loads",
    metadata,
    Column("dataset", Text, primary_key=True),
    Column("version", Text, nullable=False),
    Column("units", Integer, nullable=False),
    Column("successions", Integer, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)


# -- read models, projected from the events -----------------------------------------------
sponsor_units = Table(
    "sponsor_units",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("parent_id", Text),
    Index("sponsor_units_province", "province", "name"),
)

programmes = Table(
    "programmes",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("start_year", SmallInteger, nullable=False),
    Column("end_year", SmallInteger, nullable=False),
    Column("scope", Text, nullable=False),
    Column("legal_bases", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Index("programmes_province", "province", "start_year"),
)

villages = Table(
    "villages",
    metadata,
    Column("id", Text, primary_key=True),
    Column("province", Text, nullable=False),
    Column("commune_edition", Text, nullable=False),
    Column("commune_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Index("villages_commune", "commune_edition", "commune_code"),
)

commune_classifications = Table(
    "commune_classifications",
    metadata,
    Column("position", BigInteger, primary_key=True),  # the event's, so the order is kept
    Column("province", Text, nullable=False),
    Column("commune_edition", Text, nullable=False),
    Column("commune_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("value", JSONB, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("source", Text, nullable=False),
    Index("commune_classifications_commune", "commune_edition", "commune_code", "kind"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Text, primary_key=True),
    Column("programme_id", Text, nullable=False),
    Column("province", Text, nullable=False),
    # the target as the assignment was made: its Kafka key, and the duplicate rule's key
    Column("recorded_kind", Text, nullable=False),
    Column("recorded_edition", Text, nullable=False),
    Column("recorded_code", Text, nullable=False),
    Column("recorded_village_id", Text),
    Column("start_year", SmallInteger, nullable=False),
    Column("end_year", SmallInteger, nullable=False),
    Column("legal_basis", JSONB),
    Column("ended_on", Date),
    Column("version", Integer, nullable=False),
    Column("continues", Text),  # the district assignment this one carries on after 2025
    # One active assignment per programme and target; a race past the service's own
    # check ends here.
    Index(
        "assignments_one_active_per_target",
        "programme_id",
        "recorded_kind",
        "recorded_edition",
        "recorded_code",
        "recorded_village_id",
        unique=True,
        postgresql_where="ended_on IS NULL",
        postgresql_nulls_not_distinct=True,
    ),
)

assignment_targets = Table(
    "assignment_targets",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("seq", SmallInteger, primary_key=True),  # 1 as made, 2 after a succession...
    Column("kind", Text, nullable=False),
    Column("edition", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("village_id", Text),
    Column("current", Boolean, nullable=False),
    Index("assignment_targets_unit", "edition", "code"),
)

assignment_members = Table(
    "assignment_members",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("sponsor_unit_id", Text, primary_key=True),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date),
    Index("assignment_members_unit", "sponsor_unit_id"),
)

assignment_leads = Table(
    "assignment_leads",
    metadata,
    Column("assignment_id", Text, primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("sponsor_unit_id", Text, nullable=False),
)

READ_MODELS = (
    sponsor_units,
    programmes,
    villages,
    commune_classifications,
    assignments,
    assignment_targets,
    assignment_members,
    assignment_leads,
)
"""What a rebuild empties and derives again from the event store."""
