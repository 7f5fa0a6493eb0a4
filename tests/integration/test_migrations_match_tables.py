"""Each service's migrations make the tables its code defines (issue 17, item 4).

The migrations are what production has; the table definitions are what the code reads
and writes. This upgrades each service's schema from nothing, in a schema of its own, and
asks alembic's autogenerate to compare it with `shared.migrations.target_metadata`: any
difference (a table, column, type, nullability, default, index or constraint that one
has and the other has not) fails the test, listed in the message.

Reporting's revision 0002 makes its projections with `metadata.create_all` from today's
table definitions, so for reporting a fresh schema agrees by construction; what this
checks there is that no later revision (0007's `ALTER ... TYPE`, for one) takes it away
from the definitions again.
"""

import asyncio
import pprint
import uuid
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from shared.db import create_engine
from shared.devstack import Endpoints
from shared.migrations import (
    SERVICES,
    alembic_config,
    comparison_options,
    target_metadata,
    upgrade,
)


def differences(connection: Connection, service: str) -> list[Any]:
    metadata = target_metadata(service)
    context = MigrationContext.configure(connection, opts=comparison_options(metadata))
    diffs: list[Any] = compare_metadata(context, metadata)
    return diffs


@pytest.mark.parametrize("service", SERVICES)
async def test_a_fresh_schema_at_head_has_exactly_the_code_s_tables(
    endpoints: Endpoints, service: str
) -> None:
    schema = f"test_migrations_{service[:3]}_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, service, endpoints.database_url, schema)
    engine = create_engine(endpoints.database_url, schema, pool_size=1)
    try:
        async with engine.connect() as conn:
            # the schema's own tables, compared as the default schema (search_path)
            assert await conn.scalar(text("SELECT current_schema()")) == schema
            found = await conn.run_sync(differences, service)
        if not found:
            # the same through the service's own `migrations/env.py` (`alembic check`):
            # it fails unless the env sets `target_metadata`
            config = alembic_config(service, endpoints.database_url, schema)
            await asyncio.to_thread(command.check, config)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
    assert found == [], (
        f"{service}: the migrations and the tables differ:\n{pprint.pformat(found, width=100)}"
    )


async def test_a_difference_is_found(endpoints: Endpoints) -> None:
    """The comparison can fail: a column the tables do not define is reported."""
    schema = f"test_migrations_diff_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, "activities", endpoints.database_url, schema)
    engine = create_engine(endpoints.database_url, schema, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE known_units ADD COLUMN stray text"))
            await conn.execute(text("ALTER TABLE locks ALTER COLUMN reason DROP NOT NULL"))
        async with engine.connect() as conn:
            found = await conn.run_sync(differences, "activities")
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
    kinds = sorted(
        (diff[0][0], diff[0][2], diff[0][3])
        if isinstance(diff, list)
        else (diff[0], diff[2], diff[3].name)
        for diff in found
    )
    assert kinds == [
        ("modify_nullable", "locks", "reason"),
        ("remove_column", "known_units", "stray"),
    ]


async def test_the_causation_column_is_dropped_only_when_it_holds_nothing(
    endpoints: Endpoints,
) -> None:
    """No event ever set `events.causation_id`; were one to hold a value, the revision that
    drops the column refuses instead of losing it."""
    schema = f"test_migrations_cau_{uuid.uuid4().hex[:8]}"
    config = alembic_config("registry", endpoints.database_url, schema)
    await asyncio.to_thread(command.upgrade, config, "0006")
    engine = create_engine(endpoints.database_url, schema, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO events (event_id, stream_id, version, type, province,"
                    " partition_key, data, correlation_id, causation_id, occurred_at)"
                    " VALUES (gen_random_uuid(), 's', 1, 't', '60', 'k', '{}',"
                    " gen_random_uuid(), gen_random_uuid(), now())"
                )
            )
        with pytest.raises(Exception, match="causation_id holds values"):
            await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE events SET causation_id = NULL"))
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as conn:
            columns = await conn.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = 'events'"
                )
            )
            assert "causation_id" not in set(columns)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
