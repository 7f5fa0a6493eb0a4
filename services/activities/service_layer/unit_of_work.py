"""The activities service's unit of work: its repositories (activities, plans, the
provinces' locks) and what its handlers read besides them (`Reads`), over PostgreSQL
(`unit_of_work`) or, in unit tests, in memory (`tests/fakes.py`)."""

from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.reads import SqlReads
from services.activities.domain.activities import Activity
from services.activities.domain.assignments import KnownAssignment
from services.activities.domain.locks import ProvinceLocks
from services.activities.domain.plans import Plan
from services.activities.service_layer.projection import project
from shared.auth import Actor
from shared.contract import ActivityRecorded, PlanCreated
from shared.eventstore import Recorder
from shared.unit_of_work import EventStore, PostgresEvents, Repository, UnitOfWork


class Reads(Protocol):
    """What the registry said, the plans promised and the locks in force, as this service
    keeps them; and the province lock streams' advisory locks."""

    async def known_assignments(self, ids: set[str]) -> dict[str, KnownAssignment]: ...

    async def hold_locks(self, provinces: set[str], *, exclusive: bool) -> None: ...

    async def locks_in_force(self, provinces: set[str]) -> dict[str, ProvinceLocks]: ...

    async def commitments(self, wanted: set[tuple[str, int, str]]) -> set[tuple[str, int, str]]: ...

    async def unit_names(self, ids: set[str]) -> dict[str, str]: ...

    async def commune_names(self, places: set[tuple[str, str]]) -> dict[tuple[str, str], str]: ...


class ActivitiesUnit(UnitOfWork):
    def __init__(self, store: EventStore, reads: Reads) -> None:
        super().__init__(store)
        self.activities = Repository(store, Activity.from_events, ActivityRecorded)
        self.plans = Repository(store, Plan.from_events, PlanCreated)
        self.locks = Repository(store, ProvinceLocks.from_events)
        self.reads = reads


def unit_of_work(
    conn: AsyncConnection, topic: str, correlation_id: UUID, actor: Actor | None
) -> ActivitiesUnit:
    """On `conn`, outside any transaction: each `async with` is one."""
    recorder = Recorder(conn, topic, correlation_id, project, actor)
    return ActivitiesUnit(PostgresEvents(recorder), SqlReads(conn))
