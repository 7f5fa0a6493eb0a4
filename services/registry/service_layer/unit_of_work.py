"""The registry's unit of work: a repository per aggregate (assignments, programmes,
sponsor units, villages, a commune's classifications) and what its handlers read besides
them (`Reads`: administrative units and the lineage, and the read models' cross-aggregate
questions), over PostgreSQL (`unit_of_work`) or, in unit tests, in memory
(`tests/fakes.py`). The SQL reads reuse `admin_units`' queries, so they live here rather
than in adapters/."""

import unicodedata
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.tables import admin_units, assignments, programmes, sponsor_units
from services.registry.adapters.tables import villages as village_table
from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.assignments import Assignment, Target
from services.registry.domain.communes import CommuneClassifications, Village
from services.registry.domain.programmes import Programme
from services.registry.domain.sponsor_units import SponsorUnit
from services.registry.service_layer import admin_units as units
from services.registry.service_layer.projection import project
from shared.auth import Actor
from shared.contract import (
    AssignmentCreated,
    CommuneClassified,
    ProgrammeCreated,
    SponsorUnitRegistered,
    VillageRegistered,
)
from shared.eventstore import Recorder
from shared.unit_of_work import EventStore, PostgresEvents, Repository, UnitOfWork

Unit = dict[str, Any]  # an administrative unit as `admin_units.find_unit` answers it


class Reads(Protocol):
    async def province_exists(self, code: str) -> bool: ...

    async def unit_named(self, province: str, name: str) -> tuple[str, str] | None:
        """The province's sponsor unit of that name (case and spaces aside): id, name."""
        ...

    async def programme_citing(
        self, province: str, numbers: set[str]
    ) -> tuple[str, str, str] | None:
        """A programme of the province citing one of the numbers (compared without spaces
        and case): its id, name and the number as it cites it."""
        ...

    async def find_unit(self, edition: Edition, level: Level, code: str) -> Unit | None: ...

    async def children(self, edition: Edition, level: Level, code: str) -> list[Unit]: ...

    async def successors(self, old_code: str) -> list[Unit]: ...

    async def predecessors(self, new_code: str) -> list[Unit]: ...

    async def has_village(self, village_id: str, edition: Edition, code: str) -> bool: ...

    async def active_assignment(self, programme_id: str, target: Target) -> str | None:
        """The programme's assignment in force on that target, if any."""
        ...


class RegistryUnit(UnitOfWork):
    def __init__(self, store: EventStore, reads: Reads) -> None:
        super().__init__(store)
        self.assignments = Repository(store, Assignment.from_events, AssignmentCreated)
        self.programmes = Repository(store, Programme.from_events, ProgrammeCreated)
        self.sponsor_units = Repository(store, SponsorUnit.from_events, SponsorUnitRegistered)
        self.villages = Repository(store, Village.from_events, VillageRegistered)
        self.classifications = Repository(
            store, CommuneClassifications.from_events, CommuneClassified
        )
        self.reads = reads


def unit_of_work(
    conn: AsyncConnection, topic: str, correlation_id: UUID, actor: Actor | None
) -> RegistryUnit:
    """On `conn`, outside any transaction: each `async with` is one."""
    recorder = Recorder(conn, topic, correlation_id, project, actor)
    return RegistryUnit(PostgresEvents(recorder), SqlReads(conn))


def same_name(name: str) -> str:
    """A name as written, compared without case or extra spaces (diacritics count)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def same_number(number: str) -> str:
    return "".join(number.split()).upper()


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

    async def find_unit(self, edition: Edition, level: Level, code: str) -> Unit | None:
        return await units.find_unit(self.conn, edition, level, code)

    async def children(self, edition: Edition, level: Level, code: str) -> list[Unit]:
        return await units.children(self.conn, edition, level, code)

    async def successors(self, old_code: str) -> list[Unit]:
        return await units.successors(self.conn, old_code)

    async def predecessors(self, new_code: str) -> list[Unit]:
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
