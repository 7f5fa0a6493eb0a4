"""The registry's read models, derived from its events.

`project` runs in the transaction that appends the event, so the read models never lag
the event store; `rebuild` empties them and derives them again from the first event,
which must give the same rows.
"""

from collections.abc import Sequence
from functools import singledispatch
from typing import Any

from sqlalchemy import Update, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.tables import (
    READ_MODELS,
    assignment_leads,
    assignment_members,
    assignment_targets,
    assignments,
    commune_classifications,
    programmes,
    sponsor_units,
    villages,
)
from shared import contract
from shared.contract import (
    AssignmentCreated,
    AssignmentEnded,
    CommuneClassified,
    LeadAssigned,
    LegalBasisAdded,
    LineagePublished,
    MemberLeft,
    ProgrammeCreated,
    SponsorUnitRegistered,
    TargetSucceeded,
    VillageRegistered,
    to_json,
)
from shared.eventstore import STORED_COLUMNS, StoredEvent
from shared.tables import events


@singledispatch
async def _project(data: contract.Data, conn: AsyncConnection, event: StoredEvent) -> None:
    raise ValueError(f"no projection for {event.type}")


@_project.register
async def _sponsor_unit_registered(
    data: SponsorUnitRegistered, conn: AsyncConnection, event: StoredEvent
) -> None:
    await conn.execute(
        insert(sponsor_units).values(
            id=data.sponsor_unit_id, province=data.province, name=data.name, kind=data.kind,
            parent_id=data.parent_id,
        )
    )  # fmt: skip


@_project.register
async def _programme_created(
    data: ProgrammeCreated, conn: AsyncConnection, event: StoredEvent
) -> None:
    await conn.execute(
        insert(programmes).values(
            id=data.programme_id, province=data.province, name=data.name,
            start_year=data.period.start_year, end_year=data.period.end_year, scope=data.scope,
            legal_bases=[to_json(basis) for basis in data.legal_bases], version=event.version,
        )
    )  # fmt: skip


@_project.register
async def _legal_basis_added(
    data: LegalBasisAdded, conn: AsyncConnection, event: StoredEvent
) -> None:
    programme = programmes.c
    await conn.execute(
        update(programmes)
        .where(programme.id == data.programme_id)
        .values(
            legal_bases=programme.legal_bases.concat([to_json(data.legal_basis)]),
            version=event.version,
        )
    )


@_project.register
async def _village_registered(
    data: VillageRegistered, conn: AsyncConnection, event: StoredEvent
) -> None:
    await conn.execute(
        insert(villages).values(
            id=data.village_id, province=data.province, commune_edition=data.commune.edition,
            commune_code=data.commune.code, kind=data.kind, name=data.name,
        )
    )  # fmt: skip


@_project.register
async def _commune_classified(
    data: CommuneClassified, conn: AsyncConnection, event: StoredEvent
) -> None:
    await conn.execute(
        insert(commune_classifications).values(
            position=event.position, province=data.province,
            commune_edition=data.commune.edition, commune_code=data.commune.code,
            kind=data.kind, value=to_json(data)["value"],  # a decimal as text, as it travels
            effective_on=data.effective_on, source=data.source,
        )
    )  # fmt: skip


@_project.register
async def _assignment_created(
    data: AssignmentCreated, conn: AsyncConnection, event: StoredEvent
) -> None:
    target = data.target
    await conn.execute(
        insert(assignments).values(
            id=event.stream_id, programme_id=data.programme_id, province=data.province,
            recorded_kind=target.kind, recorded_edition=target.edition,
            recorded_code=target.code, recorded_village_id=target.village_id,
            start_year=data.period.start_year, end_year=data.period.end_year,
            legal_basis=to_json(data.legal_basis) if data.legal_basis else None,
            version=event.version, continues=data.continues,
        )
    )  # fmt: skip
    await conn.execute(insert(assignment_targets).values(_target_row(event, 1, target)))
    await conn.execute(
        insert(assignment_members),
        [_member_row(event.stream_id, member) for member in data.members],
    )
    if data.leads:
        await conn.execute(
            insert(assignment_leads),
            [
                {"assignment_id": event.stream_id, "year": int(year), "sponsor_unit_id": unit}
                for year, unit in data.leads.items()
            ],
        )


@_project.register
async def _lead_assigned(data: LeadAssigned, conn: AsyncConnection, event: StoredEvent) -> None:
    lead = assignment_leads.c
    await conn.execute(
        delete(assignment_leads).where(
            lead.assignment_id == event.stream_id, lead.year == data.year
        )
    )
    await conn.execute(
        insert(assignment_leads).values(
            assignment_id=event.stream_id, year=data.year, sponsor_unit_id=data.sponsor_unit_id
        )
    )


@_project.register
async def _member_joined(
    data: contract.Membership, conn: AsyncConnection, event: StoredEvent
) -> None:
    await conn.execute(insert(assignment_members).values(_member_row(event.stream_id, data)))


@_project.register
async def _member_left(data: MemberLeft, conn: AsyncConnection, event: StoredEvent) -> None:
    member = assignment_members.c
    await conn.execute(
        update(assignment_members)
        .where(
            member.assignment_id == event.stream_id,
            member.sponsor_unit_id == data.sponsor_unit_id,
        )
        .values(left_on=data.left_on)
    )


@_project.register
async def _target_succeeded(
    data: TargetSucceeded, conn: AsyncConnection, event: StoredEvent
) -> None:
    target = assignment_targets.c
    mine = target.assignment_id == event.stream_id
    seq = await conn.scalar(select(target.seq).where(mine, target.current))
    await conn.execute(update(assignment_targets).where(mine).values(current=False))
    await conn.execute(
        insert(assignment_targets).values(_target_row(event, (seq or 0) + 1, data.to))
    )


@_project.register
async def _assignment_ended(
    data: AssignmentEnded, conn: AsyncConnection, event: StoredEvent
) -> None:
    await conn.execute(_assignment_row(event).values(ended_on=data.ended_on))


@_project.register
async def _no_read_model(data: LineagePublished, conn: AsyncConnection, event: StoredEvent) -> None:
    """The lineage is read from the loaded dataset; its events are for other services."""


def _assignment_row(event: StoredEvent) -> Update:
    """An update of the read model's row of the event's assignment."""
    return update(assignments).where(assignments.c.id == event.stream_id)


def _member_row(assignment_id: str, member: contract.Membership) -> dict[str, Any]:
    return {
        "assignment_id": assignment_id,
        "sponsor_unit_id": member.sponsor_unit_id,
        "joined_on": member.joined_on,
        "left_on": member.left_on,
    }


def _target_row(event: StoredEvent, seq: int, target: contract.Target) -> dict[str, Any]:
    return {
        "assignment_id": event.stream_id,
        "seq": seq,
        "current": True,
        "kind": target.kind,
        "edition": target.edition,
        "code": target.code,
        "village_id": target.village_id,
    }


ASSIGNMENT_CHANGES = (
    LeadAssigned,
    contract.Membership,
    MemberLeft,
    TargetSucceeded,
    AssignmentEnded,
)
"""The events that change an assignment after its creation: each one is its new version."""


async def project(conn: AsyncConnection, stored: Sequence[StoredEvent]) -> None:
    for event in stored:
        data = event.payload
        await _project(data, conn, event)
        if isinstance(data, ASSIGNMENT_CHANGES):
            await conn.execute(_assignment_row(event).values(version=event.version))


async def rebuild(conn: AsyncConnection, batch: int = 1_000) -> int:
    """Empty the read models and project every stored event again, in order, in the
    caller's transaction (readers see the old rows until it commits). Returns the count."""
    for table in reversed(READ_MODELS):
        await conn.execute(delete(table))
    count = 0
    result = await conn.stream(
        select(*STORED_COLUMNS).order_by(events.c.position).execution_options(yield_per=batch)
    )
    async for rows in result.partitions():
        batch_events = [StoredEvent.from_row(row._mapping) for row in rows]
        await project(conn, batch_events)
        count += len(batch_events)
    return count
