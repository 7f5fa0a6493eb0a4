"""What the activities service knows of the registry, kept from the registry's events.

Applied through `shared.consumer.IdempotentConsumer`, so a redelivered event changes
nothing. Only what an activity is checked against is kept: assignments (period, communes
as made and after the reform, members with their dates), sponsor unit names (for
import sheets, which name units rather than quote ids) and commune names (for reasons).
"""

from collections.abc import Sequence

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
from shared import contract
from shared.contract import (
    EVENT_TYPES,
    AssignmentCreated,
    AssignmentEnded,
    LineagePublished,
    MemberLeft,
    SponsorUnitRegistered,
    TargetSucceeded,
    parse,
)
from shared.editions import FROM_2025, PRE_2025
from shared.envelope import Envelope


async def _apply(conn: AsyncConnection, event: Envelope, data: contract.Data) -> None:
    """One event of the registry's, if it bears on an activity's rules (the registry's
    assignment events name their assignment as the subject)."""
    assignment_id = str(event.subject)
    match data:
        case SponsorUnitRegistered():
            await conn.execute(
                insert(known_units)
                .values(id=data.sponsor_unit_id, province=data.province, name=data.name)
                .on_conflict_do_nothing()
            )
        case AssignmentCreated():
            await conn.execute(
                insert(known_assignments).values(
                    id=data.assignment_id, province=data.province,
                    programme_id=data.programme_id, start_year=data.period.start_year,
                    end_year=data.period.end_year,
                )
            )  # fmt: skip
            await _add_commune(conn, data.assignment_id, data.target)
            for member in data.members:
                await _add_member(conn, data.assignment_id, member)
        case contract.Membership():  # a member joined
            await _add_member(conn, assignment_id, data)
        case MemberLeft():
            await conn.execute(
                update(known_members)
                .where(
                    known_members.c.assignment_id == assignment_id,
                    known_members.c.sponsor_unit_id == data.sponsor_unit_id,
                )
                .values(left_on=data.left_on)
            )
        case TargetSucceeded():
            await _add_commune(conn, assignment_id, data.to)
        case AssignmentEnded():
            await conn.execute(
                update(known_assignments)
                .where(known_assignments.c.id == assignment_id)
                .values(ended_on=data.ended_on)
            )


async def _add_commune(conn: AsyncConnection, assignment_id: str, target: contract.Target) -> None:
    """A village target names its commune; a district's activities are recorded at its
    communes (named in the event since district twinning was added)."""
    codes = (target.communes or []) if target.kind == "district" else [target.code]
    if codes:
        await conn.execute(
            insert(known_assignment_communes)
            .values(
                [
                    {"assignment_id": assignment_id, "edition": target.edition, "code": code}
                    for code in codes
                ]
            )
            .on_conflict_do_nothing()
        )


async def _add_member(
    conn: AsyncConnection, assignment_id: str, member: contract.Membership
) -> None:
    await conn.execute(
        insert(known_members).values(
            assignment_id=assignment_id,
            sponsor_unit_id=member.sponsor_unit_id,
            joined_on=member.joined_on,
            left_on=member.left_on,
        )
    )


def _names(lineage: LineagePublished) -> list[dict[str, str]]:
    """An old commune and what it became: the names of both, for the reasons of refusals."""
    names = [{"edition": PRE_2025, "code": lineage.old.code, "name": lineage.old_name}]
    names += [{"edition": FROM_2025, "code": s.code, "name": s.name} for s in lineage.successors]
    return names


NAMES_PER_STATEMENT = 5_000  # rows of three parameters: under PostgreSQL's 32,767

READ = frozenset(
    EVENT_TYPES[model]
    for model in (
        SponsorUnitRegistered, AssignmentCreated, contract.Membership, MemberLeft,
        TargetSucceeded, AssignmentEnded, LineagePublished,
    )
)  # fmt: skip
"""The registry's event types that bear on an activity's rules: the others are not even
read into their models."""


async def apply_registry_events(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    """Programmes, villages, classifications and leads do not bear on an activity's rules.
    The lineage (about 10,000 events at once) gives names only: written together at the end
    of the batch, a few statements instead of one per event. The data is read as its
    contract model (the consumer has checked it against the contract already)."""
    names: list[dict[str, str]] = []
    for event in events:
        if event.type not in READ:
            continue
        data = parse(event.type, event.data)
        if isinstance(data, LineagePublished):
            names += _names(data)
        else:
            await _apply(conn, event, data)
    for start in range(0, len(names), NAMES_PER_STATEMENT):
        chunk = names[start : start + NAMES_PER_STATEMENT]
        await conn.execute(insert(known_communes).values(chunk).on_conflict_do_nothing())
