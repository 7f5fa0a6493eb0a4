"""What the activities service knows of the registry, kept from the registry's events.

Applied through `shared.consumer.IdempotentConsumer`, so a redelivered event changes
nothing. Only what an activity is checked against is kept: assignments (period, communes
as made and after the reform, members with their dates), sponsor unit names (for
import sheets, which name units rather than quote ids) and commune names (for reasons).
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import (
    known_assignment_communes,
    known_assignments,
    known_communes,
    known_members,
    known_units,
)
from shared.editions import FROM_2025, PRE_2025
from shared.envelope import Envelope
from shared.events import REGISTRY_EVENTS, iso_day

REGISTRY = REGISTRY_EVENTS


async def _unit_registered(conn: AsyncConnection, event: Envelope) -> None:
    data = event.data
    await conn.execute(
        insert(known_units)
        .values(id=data["sponsor_unit_id"], province=data["province"], name=data["name"])
        .on_conflict_do_nothing()
    )


async def _assignment_created(conn: AsyncConnection, event: Envelope) -> None:
    data, assignment_id = event.data, event.data["assignment_id"]
    await conn.execute(
        insert(known_assignments).values(
            id=assignment_id,
            province=data["province"],
            programme_id=data["programme_id"],
            start_year=data["period"]["start_year"],
            end_year=data["period"]["end_year"],
        )
    )
    await _add_commune(conn, assignment_id, data["target"])
    for member in data["members"]:
        await _add_member(conn, assignment_id, member)


async def _member_joined(conn: AsyncConnection, event: Envelope) -> None:
    await _add_member(conn, _assignment(event), event.data)


async def _member_left(conn: AsyncConnection, event: Envelope) -> None:
    member = known_members.c
    await conn.execute(
        update(known_members)
        .where(
            member.assignment_id == _assignment(event),
            member.sponsor_unit_id == event.data["sponsor_unit_id"],
        )
        .values(left_on=iso_day(event.data["left_on"]))
    )


async def _target_succeeded(conn: AsyncConnection, event: Envelope) -> None:
    await _add_commune(conn, _assignment(event), event.data["to"])


async def _ended(conn: AsyncConnection, event: Envelope) -> None:
    await conn.execute(
        update(known_assignments)
        .where(known_assignments.c.id == _assignment(event))
        .values(ended_on=iso_day(event.data["ended_on"]))
    )


def _assignment(event: Envelope) -> str:
    """The registry's assignment events name their assignment as the subject."""
    return str(event.subject)


async def _add_commune(conn: AsyncConnection, assignment_id: str, target: dict[str, Any]) -> None:
    """A village target names its commune; a district's activities are recorded at its
    communes (named in the event since district twinning was added)."""
    district = target["kind"] == "district"
    codes = (target.get("communes") or []) if district else [target["code"]]
    if codes:
        await conn.execute(
            insert(known_assignment_communes)
            .values(
                [
                    {"assignment_id": assignment_id, "edition": target["edition"], "code": code}
                    for code in codes
                ]
            )
            .on_conflict_do_nothing()
        )


async def _add_member(conn: AsyncConnection, assignment_id: str, member: dict[str, str]) -> None:
    await conn.execute(
        insert(known_members).values(
            assignment_id=assignment_id,
            sponsor_unit_id=member["sponsor_unit_id"],
            joined_on=iso_day(member["joined_on"]),
            left_on=iso_day(member.get("left_on")),
        )
    )


def _names(event: Envelope) -> list[dict[str, str]]:
    """An old commune and what it became: the names of both, for the reasons of refusals."""
    data = event.data
    names = [{"edition": PRE_2025, "code": data["old"]["code"], "name": data["old_name"]}]
    names += [
        {"edition": FROM_2025, "code": s["code"], "name": s["name"]} for s in data["successors"]
    ]
    return names


HANDLERS: dict[str, Callable[[AsyncConnection, Envelope], Awaitable[None]]] = {
    REGISTRY + "sponsor_unit.registered.v1": _unit_registered,
    REGISTRY + "assignment.created.v1": _assignment_created,
    REGISTRY + "assignment.member_joined.v1": _member_joined,
    REGISTRY + "assignment.member_left.v1": _member_left,
    REGISTRY + "assignment.target_succeeded.v1": _target_succeeded,
    REGISTRY + "assignment.ended.v1": _ended,
}


LINEAGE = REGISTRY + "lineage.published.v1"
NAMES_PER_STATEMENT = 5_000  # rows of three parameters: under PostgreSQL's 32,767


async def apply_registry_events(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    """Programmes, villages, classifications and leads do not bear on an activity's rules.
    The lineage (about 10,000 events at once) gives names only: written together at the end
    of the batch, a few statements instead of one per event."""
    names: list[dict[str, str]] = []
    for event in events:
        if event.type == LINEAGE:
            names += _names(event)
        elif (handler := HANDLERS.get(event.type)) is not None:
            await handler(conn, event)
    for start in range(0, len(names), NAMES_PER_STATEMENT):
        chunk = names[start : start + NAMES_PER_STATEMENT]
        await conn.execute(insert(known_communes).values(chunk).on_conflict_do_nothing())
