"""The async SQLAlchemy engine of a service, bound to the service's own schema."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, Select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.errors import NotFound


def create_engine(
    database_url: str, schema: str, *, pool_size: int = 10, durable: bool = True
) -> AsyncEngine:
    """An engine whose connections resolve unqualified table names in `schema` first.

    Each service owns one schema of the database; setting `search_path` on every
    connection keeps table definitions and SQL free of schema names. No pre-ping: it costs
    a round trip per request; after a database restart a pooled connection fails once
    (a 500 the caller retries, with its Idempotency-Key) and is replaced.

    `durable=False`: a commit does not wait for its WAL to reach the disk (a rebuild's
    fresh tables, which are rebuilt anyway if the server fails before they are switched in).
    """
    settings = {"search_path": schema} | ({} if durable else {"synchronous_commit": "off"})
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=5,
        connect_args={"server_settings": settings},
    )


async def copy_records(
    conn: AsyncConnection, table: str, records: Sequence[tuple[Any, ...]], columns: Sequence[str]
) -> None:
    """COPY `records` (values in `columns` order) into `table`, in `conn`'s transaction:
    for the many rows of a batch, where an INSERT's per-row parameters cost more than the
    database's work."""
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table, records=records, columns=columns)


async def ensure_schema(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


async def database_reachable(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def all_rows(conn: AsyncConnection, query: Select[*tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every row `query` finds, each by column name."""
    return [dict(row._mapping) for row in await conn.execute(query)]


async def one_row(
    conn: AsyncConnection, query: Select[*tuple[Any, ...]], missing: str
) -> RowMapping:
    """The one row `query` finds; `NotFound`, saying `missing`, when there is none."""
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        raise NotFound(missing)
    return row._mapping
