"""The registry's unit of work: a repository per aggregate (assignments, programmes,
sponsor units, villages, a commune's classifications) and what its handlers read besides
them (`Reads`: administrative units and the lineage, and the read models' cross-aggregate
questions), over PostgreSQL (`unit_of_work`) or, in unit tests, in memory
(`tests/fakes.py`)."""

from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.reads import SqlReads
from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.assignments import Assignment, Target
from services.registry.domain.communes import CommuneClassifications, Village
from services.registry.domain.programmes import Programme
from services.registry.domain.sponsor_units import SponsorUnit
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

Unit = dict[str, Any]  # an administrative unit as `adapters.admin_units` answers it


class Reads(Protocol):
    """What the handlers read besides their aggregates: the administrative units and the
    lineage as loaded, and the read models' answers across aggregates."""

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
