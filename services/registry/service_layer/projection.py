"""The registry's read models, derived from its events.

`project` runs in the transaction that appends the event, so the read models never lag
the event store; `rebuild` empties them and derives them again from the first event,
which must give the same rows.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
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
from services.registry.domain.events import event_type
from shared.events import iso_day
from shared.eventstore import STORED_COLUMNS, StoredEvent
from shared.tables import events

EventProjector = Callable[[AsyncConnection, StoredEvent], Awaitable[None]]


async def _sponsor_unit_registered(conn: AsyncConnection, event: StoredEvent) -> None:
    data = event.data
    await conn.execute(
        insert(sponsor_units).values(
            id=data["sponsor_unit_id"],
            province=data["province"],
            name=data["name"],
            kind=data["kind"],
            parent_id=data["parent_id"],
        )
    )


async def _programme_created(conn: AsyncConnection, event: StoredEvent) -> None:
    data = event.data
    await conn.execute(
        insert(programmes).values(
            id=data["programme_id"],
            province=data["province"],
            name=data["name"],
            start_year=data["period"]["start_year"],
            end_year=data["period"]["end_year"],
            scope=data["scope"],
            legal_bases=data["legal_bases"],
            version=event.version,
        )
    )


async def _legal_basis_added(conn: AsyncConnection, event: StoredEvent) -> None:
    programme = programmes.c
    await conn.execute(
        update(programmes)
        .where(programme.id == event.data["programme_id"])
        .values(
            legal_bases=programme.legal_bases.concat([event.data["legal_basis"]]),
            version=event.version,
        )
    )


async def _village_registered(conn: AsyncConnection, event: StoredEvent) -> None:
    data = event.data
    await conn.execute(
        insert(villages).values(
            id=data["village_id"],
            province=data["province"],
            commune_edition=data["commune"]["edition"],
            commune_code=data["commune"]["code"],
            kind=data["kind"],
            name=data["name"],
        )
    )


async def _commune_classified(conn: AsyncConnection, event: StoredEvent) -> None:
    data = event.data
    await conn.execute(
        insert(commune_classifications).values(
            position=event.position,
            province=data["province"],
            commune_edition=data["commune"]["edition"],
            commune_code=data["commune"]["code"],
            kind=data["kind"],
            value=data["value"],
            effective_on=iso_day(data["effective_on"]),
            source=data["source"],
        )
    )


async def _assignment_created(conn: AsyncConnection, event: StoredEvent) -> None:
    data = event.data
    target = data["target"]
    await conn.execute(
        insert(assignments).values(
            id=event.stream_id,
            programme_id=data["programme_id"],
            province=data["province"],
            recorded_kind=target["kind"],
            recorded_edition=target["edition"],
            recorded_code=target["code"],
            recorded_village_id=target["village_id"],
            start_year=data["period"]["start_year"],
            end_year=data["period"]["end_year"],
            legal_basis=data["legal_basis"],
            version=event.version,
            continues=data.get("continues"),
        )
    )
    await conn.execute(insert(assignment_targets).values(_target_row(event, 1, target)))
    await conn.execute(
        insert(assignment_members),
        [_member_row(event.stream_id, member) for member in data["members"]],
    )
    if data["leads"]:
        await conn.execute(
            insert(assignment_leads),
            [
                {"assignment_id": event.stream_id, "year": int(year), "sponsor_unit_id": unit}
                for year, unit in data["leads"].items()
            ],
        )


async def _lead_assigned(conn: AsyncConnection, event: StoredEvent) -> None:
    lead = assignment_leads.c
    await conn.execute(
        delete(assignment_leads).where(
            lead.assignment_id == event.stream_id, lead.year == event.data["year"]
        )
    )
    await conn.execute(
        insert(assignment_leads).values(
            assignment_id=event.stream_id,
            year=event.data["year"],
            sponsor_unit_id=event.data["sponsor_unit_id"],
        )
    )


async def _member_joined(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(insert(assignment_members).values(_member_row(event.stream_id, event.data)))


async def _member_left(conn: AsyncConnection, event: StoredEvent) -> None:
    member = assignment_members.c
    await conn.execute(
        update(assignment_members)
        .where(
            member.assignment_id == event.stream_id,
            member.sponsor_unit_id == event.data["sponsor_unit_id"],
        )
        .values(left_on=iso_day(event.data["left_on"]))
    )


async def _target_succeeded(conn: AsyncConnection, event: StoredEvent) -> None:
    target = assignment_targets.c
    mine = target.assignment_id == event.stream_id
    seq = await conn.scalar(select(target.seq).where(mine, target.current))
    await conn.execute(update(assignment_targets).where(mine).values(current=False))
    row = _target_row(event, (seq or 0) + 1, event.data["to"])
    await conn.execute(insert(assignment_targets).values(row))


async def _assignment_ended(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(
        update(assignments)
        .where(assignments.c.id == event.stream_id)
        .values(ended_on=iso_day(event.data["ended_on"]))
    )


def _member_row(assignment_id: str, member: dict[str, Any]) -> dict[str, Any]:
    return {
        "assignment_id": assignment_id,
        "sponsor_unit_id": member["sponsor_unit_id"],
        "joined_on": iso_day(member["joined_on"]),
        "left_on": iso_day(member["left_on"]),
    }


def _target_row(event: StoredEvent, seq: int, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "assignment_id": event.stream_id,
        "seq": seq,
        "current": True,
        **{key: target.get(key) for key in ("kind", "edition", "code", "village_id")},
    }


async def _no_read_model(_conn: AsyncConnection, _event: StoredEvent) -> None:
    """The lineage is read from the loaded dataset; its events are for other services."""


PROJECTORS: dict[str, EventProjector] = {
    event_type("lineage", "published.v1"): _no_read_model,
    event_type("sponsor_unit", "registered.v1"): _sponsor_unit_registered,
    event_type("programme", "created.v1"): _programme_created,
    event_type("programme", "legal_basis_added.v1"): _legal_basis_added,
    event_type("village", "registered.v1"): _village_registered,
    event_type("commune", "classified.v1"): _commune_classified,
    event_type("assignment", "created.v1"): _assignment_created,
    event_type("assignment", "lead_assigned.v1"): _lead_assigned,
    event_type("assignment", "member_joined.v1"): _member_joined,
    event_type("assignment", "member_left.v1"): _member_left,
    event_type("assignment", "target_succeeded.v1"): _target_succeeded,
    event_type("assignment", "ended.v1"): _assignment_ended,
}
ASSIGNMENT_EVENTS = {name for name in PROJECTORS if ".assignment." in name}


async def project(conn: AsyncConnection, stored: Sequence[StoredEvent]) -> None:
    for event in stored:
        await PROJECTORS[event.type](conn, event)
        if event.type in ASSIGNMENT_EVENTS and not event.type.endswith(".created.v1"):
            await conn.execute(
                update(assignments)
                .where(assignments.c.id == event.stream_id)
                .values(version=event.version)
            )


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
