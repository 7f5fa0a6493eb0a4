"""Loading the administrative units and asking what an old commune became."""

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.admin_dataset import AdminDataset
from services.registry.adapters.tables import admin_units, commune_successions, dataset_loads
from services.registry.domain.admin_units import Edition, Level, search_key

DATASET = "admin-units"
BATCH = 2_000


async def load_admin_units(conn: AsyncConnection, dataset: AdminDataset) -> bool:
    """Replace the reference data with `dataset` in the caller's transaction.

    Returns False (and writes nothing) when this dataset version is already loaded.
    """
    loaded = await conn.scalar(
        select(dataset_loads.c.version).where(dataset_loads.c.dataset == DATASET)
    )
    if loaded == dataset.version:
        return False
    await conn.execute(delete(commune_successions))
    await conn.execute(delete(admin_units))
    unit_rows = [{**asdict(unit), "search_key": unit.search_key} for unit in dataset.units]
    succession_rows = [
        {"old_code": s.old_code, "new_code": s.new_code, "share": s.share, "is_default": s.default}
        for s in dataset.successions
    ]
    for table, rows in ((admin_units, unit_rows), (commune_successions, succession_rows)):
        for start in range(0, len(rows), BATCH):
            await conn.execute(insert(table), rows[start : start + BATCH])
    record = {
        "version": dataset.version,
        "units": len(dataset.units),
        "successions": len(dataset.successions),
        "loaded_at": datetime.now(UTC),
    }
    upsert = pg_insert(dataset_loads).values(dataset=DATASET, **record)
    await conn.execute(upsert.on_conflict_do_update(index_elements=["dataset"], set_=record))
    return True


async def find_unit(
    conn: AsyncConnection, edition: Edition, level: Level, code: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(admin_units).where(
                admin_units.c.edition == edition,
                admin_units.c.level == level,
                admin_units.c.code == code,
            )
        )
    ).one_or_none()
    return dict(row._mapping) if row else None


async def successors(conn: AsyncConnection, old_code: str) -> list[dict[str, Any]]:
    """The 2025 communes that took over pre-2025 commune `old_code`, main successor first."""
    rows = await conn.execute(
        select(commune_successions.c.share, commune_successions.c.is_default, admin_units)
        .join(
            admin_units,
            (admin_units.c.code == commune_successions.c.new_code)
            & (admin_units.c.edition == Edition.FROM_2025)
            & (admin_units.c.level == Level.COMMUNE),
        )
        .where(commune_successions.c.old_code == old_code)
        .order_by(commune_successions.c.is_default.desc(), admin_units.c.code)
    )
    return [dict(row._mapping) for row in rows]


async def search_units(
    conn: AsyncConnection, text: str, edition: Edition | None, limit: int = 20
) -> list[dict[str, Any]]:
    """Units whose name contains `text`, with or without diacritics ("ham can", "Hàm Cần")."""
    key = search_key(text)
    query = select(admin_units).where(admin_units.c.search_key.contains(key, autoescape=True))
    if edition is not None:
        query = query.where(admin_units.c.edition == edition)
    rows = await conn.execute(
        query.order_by(admin_units.c.edition, admin_units.c.level, admin_units.c.code).limit(limit)
    )
    return [dict(row._mapping) for row in rows]
