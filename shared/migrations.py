"""Alembic for every service: each service keeps its migrations in `<service>/migrations`
and its version table in its own schema.

    python -m shared.migrations registry      # upgrade the registry's schema to head

A service's `migrations/env.py` is one call to `run_env(target_metadata(service))`; its
first revision calls `create_plumbing_tables()`. `target_metadata` is what the code expects
the schema to hold, so `alembic revision --autogenerate` (and
`tests/integration/test_migrations_match_tables.py`) compares the migrations with it.

The functions between `_run_migrations` and `main` are the bodies of revisions every
service has (the same change to the same plumbing tables), which each service's revision
calls or is. They are frozen, like the revisions: schemas already upgraded ran them as they
are, so a later change to the schema is a new revision, never an edit of one of them.
A revision that is one of them (`upgrade = create_parked_outbox`) is logged by Alembic
under the function's name: "Running create_parked_outbox 0005 -> 0006".
"""

import asyncio
import importlib
import sys
from typing import Any

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from shared import tables as plumbing
from shared.db import create_engine, ensure_schema
from shared.settings import ServiceSettings

SERVICES = ("registry", "activities", "reporting")


def alembic_config(service: str, database_url: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"services.{service}:migrations")
    config.set_main_option("sqlalchemy.url", database_url)
    config.set_main_option("schema", schema)
    return config


def upgrade(service: str, database_url: str, schema: str) -> None:
    """Bring the service's schema to the newest revision (blocking: call from a thread)."""
    command.upgrade(alembic_config(service, database_url, schema), "head")


def service_settings(service: str) -> ServiceSettings:
    settings_class = importlib.import_module(f"services.{service}.config").Settings
    settings: ServiceSettings = settings_class()
    return settings


def target_metadata(service: str) -> sa.MetaData:
    """Every table the service's schema holds, as the code defines them: the plumbing of
    `shared.tables` (every service's revision 1 makes it) and the service's own
    (`services/<service>/adapters/tables.py`), in one `MetaData`."""
    own: sa.MetaData = importlib.import_module(f"services.{service}.adapters.tables").metadata
    combined = sa.MetaData()
    for source in (plumbing.metadata, own):
        for table in source.tables.values():
            table.to_metadata(combined)
    return combined


def comparison_options(metadata: sa.MetaData) -> dict[str, Any]:
    """How a schema is compared with the code's tables, by autogenerate and by the test."""
    return {
        "target_metadata": metadata,
        "compare_type": True,
        "compare_server_default": True,
        "include_name": _not_the_version_table,
    }


def _not_the_version_table(name: str | None, type_: str, parent_names: Any) -> bool:
    # Alembic leaves out its own table only when it lives in the default schema under its
    # own name (`schema=None`); ours is in the service's schema, named explicitly.
    return not (type_ == "table" and name == "alembic_version")


def run_env(metadata: sa.MetaData | None = None) -> None:
    """The body of every service's `migrations/env.py` (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")
    schema = context.config.get_main_option("schema")
    if not url or not schema:
        raise RuntimeError("alembic config needs sqlalchemy.url and schema")
    asyncio.run(_run_online(url, schema, metadata))


async def _run_online(url: str, schema: str, metadata: sa.MetaData | None) -> None:
    engine = create_engine(url, schema, pool_size=1)
    try:
        await ensure_schema(engine, schema)
        async with engine.connect() as conn:
            await conn.run_sync(_run_migrations, schema, metadata)
            await conn.commit()
    finally:
        await engine.dispose()


def _run_migrations(connection: Connection, schema: str, metadata: sa.MetaData | None) -> None:
    options = comparison_options(metadata) if metadata is not None else {}
    context.configure(connection=connection, version_table_schema=schema, **options)
    with context.begin_transaction():
        context.run_migrations()


def append_only() -> None:
    """The downgrade of every revision that makes or widens the event store (`events`):
    refused, as what was written since cannot be taken out. Frozen: never edit."""
    raise NotImplementedError("the event store is append-only: restore from a backup instead")


def create_plumbing_tables() -> None:
    """Revision 1 of every service: the tables described in `shared.tables` when it was
    written. Frozen: a later change to them is a new revision, never an edit here."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("stream_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("partition_key", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("correlation_id", sa.Uuid, nullable=False),
        sa.Column("causation_id", sa.Uuid),
        sa.Column("occurred_at", timestamp, nullable=False),
        sa.Column("recorded_at", timestamp, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("stream_id", "version", name="events_stream_version_key"),
    )
    op.create_index("events_province_position", "events", ["province", "position"])
    op.create_table(
        "outbox",
        sa.Column("position", sa.BigInteger, sa.ForeignKey("events.position"), primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
    )
    op.create_table(
        "outbox_relay_state",
        sa.Column("relay", sa.Text, primary_key=True),
        sa.Column("last_position", sa.BigInteger, nullable=False),
        sa.Column("published_total", sa.BigInteger, nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("processed_at", timestamp, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "consumer_positions",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("topic", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("event_time", timestamp),
        sa.Column("updated_at", timestamp, nullable=False),
    )


def add_event_actor() -> None:
    """The revision of every service that signs events with their author (`events.actor`).
    Frozen: a later change to the schema is a new revision, never an edit here."""
    op.add_column("events", sa.Column("actor", JSONB, nullable=True))


def drop_event_causation() -> None:
    """The revision of every service that drops `events.causation_id`: no event is caused by
    another (every one comes from a command: a request, an import, a loader), so nothing
    ever set it. It refuses, rather than lose them, if some row holds one. Frozen: a later
    change to the schema is a new revision, never an edit here."""
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT FROM events WHERE causation_id IS NOT NULL) THEN
                RAISE EXCEPTION 'events.causation_id holds values: not dropped';
            END IF;
        END $$
        """
    )
    op.drop_column("events", "causation_id")


def restore_event_causation() -> None:
    """Undoes `drop_event_causation` (the column held nothing). Frozen: never edit."""
    op.add_column("events", sa.Column("causation_id", sa.Uuid, nullable=True))


def create_parked_outbox() -> None:
    """The revision of every service that sets aside the events Kafka refuses for good
    (`outbox_parked`). Frozen: a later change to the schema is a new revision, never an
    edit here."""
    op.create_table(
        "outbox_parked",
        sa.Column("position", sa.BigInteger, sa.ForeignKey("events.position"), primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column(
            "parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def drop_parked_outbox() -> None:
    """Undoes `create_parked_outbox`. Frozen: never edit."""
    op.drop_table("outbox_parked")


def main(argv: list[str]) -> int:
    services = argv or list(SERVICES)
    unknown = [name for name in services if name not in SERVICES]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}; expected {', '.join(SERVICES)}")
        return 2
    for service in services:
        settings = service_settings(service)
        upgrade(service, settings.database_url, settings.database_schema)
        print(f"{service}: schema {settings.database_schema!r} is at head")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
