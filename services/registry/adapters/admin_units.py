"""The administrative units and the 2025 lineage as loaded (`service_layer.admin_units`
loads them): a unit by its code, the units under it, what an old commune became and what
a new one came from, a search by name. The HTTP routes answer with these, and the command
handlers check references with them (`reads.SqlReads`)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.tables import admin_units, commune_successions
from services.registry.domain.admin_units import Edition, Level, search_key
from shared.db import all_rows


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
    return await _lineage(conn, old_code, Edition.FROM_2025)


async def predecessors(conn: AsyncConnection, new_code: str) -> list[dict[str, Any]]:
    """The pre-2025 communes that went into 2025 commune `new_code`, wholly or in part
    (codes are reused across editions: every row names its edition)."""
    return await _lineage(conn, new_code, Edition.PRE_2025)


async def _lineage(conn: AsyncConnection, code: str, other: Edition) -> list[dict[str, Any]]:
    """The communes of edition `other` linked to commune `code` of the other edition."""
    s = commune_successions.c
    mine, theirs = (
        (s.old_code, s.new_code) if other == Edition.FROM_2025 else (s.new_code, s.old_code)
    )
    return await all_rows(
        conn,
        select(s.share, s.is_default, admin_units)
        .join(
            admin_units,
            (admin_units.c.code == theirs)
            & (admin_units.c.edition == other)
            & (admin_units.c.level == Level.COMMUNE),
        )
        .where(mine == code)
        .order_by(s.is_default.desc(), admin_units.c.code),
    )


async def children(
    conn: AsyncConnection, edition: Edition, level: Level, code: str
) -> list[dict[str, Any]]:
    """The units directly under (edition, level, code): a district's communes, a
    province's districts (before 2025) or communes (from 2025)."""
    below = {Level.PROVINCE: (Level.DISTRICT if edition == Edition.PRE_2025 else Level.COMMUNE),
             Level.DISTRICT: Level.COMMUNE}.get(level)  # fmt: skip
    if below is None:
        return []
    return await all_rows(
        conn,
        select(admin_units)
        .where(
            admin_units.c.edition == edition,
            admin_units.c.level == below,
            admin_units.c.parent_code == code,
        )
        .order_by(admin_units.c.code),
    )


async def search_units(
    conn: AsyncConnection, text: str, edition: Edition | None, limit: int = 20
) -> list[dict[str, Any]]:
    """Units whose name contains `text`, with or without diacritics ("ham can", "Hàm Cần")."""
    key = search_key(text)
    query = select(admin_units).where(admin_units.c.search_key.contains(key, autoescape=True))
    if edition is not None:
        query = query.where(admin_units.c.edition == edition)
    return await all_rows(
        conn,
        query.order_by(admin_units.c.edition, admin_units.c.level, admin_units.c.code).limit(limit),
    )
