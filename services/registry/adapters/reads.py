"""What the command handlers read besides their aggregates, in PostgreSQL: the
administrative units and the lineage (`admin_units`), and the read models' questions
across aggregates (`service_layer.unit_of_work.Reads`)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters import admin_units as units
from services.registry.adapters.tables import admin_units, assignments, programmes, sponsor_units
from services.registry.adapters.tables import villages as village_table
from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.assignments import Target
from services.registry.domain.programmes import same_number
from services.registry.domain.sponsor_units import same_name


class SqlReads:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def province_exists(self, code: str) -> bool:
        found = await self.conn.scalar(
            select(admin_units.c.code).where(
                admin_units.c.level == Level.PROVINCE, admin_units.c.code == code
            )
        )
        return found is not None

    async def unit_named(self, province: str, name: str) -> tuple[str, str] | None:
        u = sponsor_units.c
        wanted = same_name(name)
        for unit_id, known in await self.conn.execute(
            select(u.id, u.name).where(u.province == province)
        ):
            if same_name(known) == wanted:
                return unit_id, known
        return None

    async def programme_citing(
        self, province: str, numbers: set[str]
    ) -> tuple[str, str, str] | None:
        p = programmes.c
        for programme_id, name, bases in await self.conn.execute(
            select(p.id, p.name, p.legal_bases).where(p.province == province)
        ):
            for basis in bases:
                if same_number(basis["number"]) in numbers:
                    return programme_id, name, basis["number"]
        return None

    async def find_unit(self, edition: Edition, level: Level, code: str) -> dict[str, Any] | None:
        return await units.find_unit(self.conn, edition, level, code)

    async def children(self, edition: Edition, level: Level, code: str) -> list[dict[str, Any]]:
        return await units.children(self.conn, edition, level, code)

    async def successors(self, old_code: str) -> list[dict[str, Any]]:
        return await units.successors(self.conn, old_code)

    async def predecessors(self, new_code: str) -> list[dict[str, Any]]:
        return await units.predecessors(self.conn, new_code)

    async def has_village(self, village_id: str, edition: Edition, code: str) -> bool:
        v = village_table.c
        found = await self.conn.scalar(
            select(v.id).where(
                v.id == village_id, v.commune_edition == edition, v.commune_code == code
            )
        )
        return found is not None

    async def active_assignment(self, programme_id: str, target: Target) -> str | None:
        a = assignments.c
        village = (
            a.recorded_village_id.is_(None)
            if target.village_id is None
            else a.recorded_village_id == target.village_id
        )
        return await self.conn.scalar(
            select(a.id).where(
                a.programme_id == programme_id,
                a.recorded_kind == target.kind,
                a.recorded_edition == target.edition,
                a.recorded_code == target.code,
                village,
                a.ended_on.is_(None),
            )
        )
