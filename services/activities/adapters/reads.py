"""What the command handlers read besides their aggregates, in PostgreSQL: the registry's
assignments, names and the plans' commitments as this service keeps them, the locks in
force, and the province lock streams' advisory locks (`service_layer.unit_of_work.Reads`)."""

from datetime import date

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import (
    commitments,
    known_assignment_communes,
    known_assignments,
    known_communes,
    known_members,
    known_units,
    locks,
)
from services.activities.domain.assignments import KnownAssignment, Membership
from services.activities.domain.locks import Lock, ProvinceLocks, locks_stream


class SqlReads:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def known_assignments(self, ids: set[str]) -> dict[str, KnownAssignment]:
        """The assignments among `ids` this service has heard of, with communes and members
        (one query: this runs on every recorded activity)."""
        a, c, m = known_assignments.c, known_assignment_communes.c, known_members.c
        communes = (
            select(func.json_agg(func.json_build_array(c.edition, c.code)))
            .where(c.assignment_id == a.id)
            .scalar_subquery()
        )
        members = (
            select(func.json_agg(func.json_build_array(m.sponsor_unit_id, m.joined_on, m.left_on)))
            .where(m.assignment_id == a.id)
            .scalar_subquery()
        )
        rows = await self.conn.execute(
            select(a.id, a.province, a.start_year, a.end_year, a.ended_on, communes, members)
            .where(a.id.in_(ids))
        )  # fmt: skip
        return {
            row[0]: KnownAssignment(
                row.id,
                row.province,
                row.start_year,
                row.end_year,
                frozenset((edition, code) for edition, code in row[5] or []),
                tuple(
                    Membership(
                        unit,
                        date.fromisoformat(joined),
                        date.fromisoformat(left) if left else None,
                    )
                    for unit, joined, left in row[6] or []
                ),
                row.ended_on,
            )
            for row in rows
        }

    async def hold_locks(self, provinces: set[str], *, exclusive: bool) -> None:
        """The provinces' lock streams, for the rest of the transaction (sorted: no
        deadlock between two commands of several provinces)."""
        take = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
        for province in sorted(provinces):
            await self.conn.execute(select(take(func.hashtext(locks_stream(province)))))

    async def locks_in_force(self, provinces: set[str]) -> dict[str, ProvinceLocks]:
        """The locks in force (the read model; a lock or unlock loads the stream instead)."""
        found = {province: ProvinceLocks(province) for province in provinces}
        in_force = select(locks).where(
            locks.c.province.in_(provinces), locks.c.unlocked_at.is_(None)
        )
        for row in await self.conn.execute(in_force):
            commune = (row.commune_edition, row.commune_code) if row.commune_code else None
            found[row.province].active[row.id] = Lock(
                row.id, row.year, row.quarter, commune, row.reason, row.locked_by
            )
        return found

    async def commitments(self, wanted: set[tuple[str, int, str]]) -> set[tuple[str, int, str]]:
        """Which of (assignment, year, commitment) the plans promise."""
        if not wanted:
            return set()
        c = commitments.c
        found = await self.conn.execute(
            select(c.assignment_id, c.year, c.id).where(
                tuple_(c.assignment_id, c.year, c.id).in_(wanted)
            )
        )
        return {(row.assignment_id, row.year, row.id) for row in found}

    async def unit_names(self, ids: set[str]) -> dict[str, str]:
        """Sponsor-unit id → name, as the registry said, for the reasons of refusals."""
        if not ids:
            return {}
        rows = await self.conn.execute(
            select(known_units.c.id, known_units.c.name).where(known_units.c.id.in_(sorted(ids)))
        )
        return {unit_id: name for unit_id, name in rows}

    async def commune_names(self, places: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(edition, code) → the commune's name, from the registry's lineage, for reasons."""
        if not places:
            return {}
        c = known_communes.c
        rows = await self.conn.execute(
            select(c.edition, c.code, c.name).where(tuple_(c.edition, c.code).in_(sorted(places)))
        )
        return {(edition, code): name for edition, code, name in rows}
