"""The registry's own tables, beside the shared event plumbing (`shared.tables`)."""

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, Table, Text

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
)

commune_successions = Table(
    "commune_successions",
    metadata,
    Column("old_code", Text, primary_key=True),  # a pre-2025 commune
    Column("new_code", Text, primary_key=True),  # a 2025 commune
    Column("share", Text, nullable=False),
    Column("is_default", Boolean, nullable=False),
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
