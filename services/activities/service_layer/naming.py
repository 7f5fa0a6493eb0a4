"""Recording by names, as a clerk knows them: the sponsor unit by its name and the
assignment found from the commune (edition and code), the day and the acting units, the
way an import finds it. An ambiguous or missing match is a 422 that lists the candidates.
"""

from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import (
    known_assignment_communes,
    known_assignments,
    known_members,
    known_units,
)
from shared.errors import RuleViolation
from shared.text import fold

MAX_LISTED = 10


async def unit_named(conn: AsyncConnection, name: str) -> str:
    """The id of the sponsor unit called `name` (with or without diacritics)."""
    wanted = fold(name)
    rows = await conn.execute(select(known_units.c.id, known_units.c.name, known_units.c.province))
    found = [(unit_id, named, province) for unit_id, named, province in rows
             if fold(named) == wanted]  # fmt: skip
    if len(found) == 1:
        return str(found[0][0])
    if not found:
        raise RuleViolation(
            "sponsor_unit", f"không có đơn vị tên «{name}» / no sponsor unit named {name!r}"
        )
    listed = "; ".join(f"{named} (tỉnh {province}, {unit_id})" for unit_id, named, province
                       in found[:MAX_LISTED])  # fmt: skip
    raise RuleViolation(
        "sponsor_unit",
        f"nhiều đơn vị tên «{name}»: {listed}; hãy ghi sponsor_unit_id / "
        "several units have that name: give sponsor_unit_id",
    )


async def assignment_for(
    conn: AsyncConnection, commune: tuple[str, str], day: date, units: list[str]
) -> str:
    """The one assignment of the commune under which every one of `units` was a member on
    `day`."""
    c, m, a = known_assignment_communes.c, known_members.c, known_assignments.c
    rows = await conn.execute(
        select(c.assignment_id, a.province, m.sponsor_unit_id)
        .join(known_assignments, a.id == c.assignment_id)
        .join(
            known_members,
            and_(m.assignment_id == c.assignment_id, m.joined_on <= day),
        )
        .where(
            c.edition == commune[0],
            c.code == commune[1],
            (m.left_on.is_(None)) | (m.left_on >= day),
        )
    )
    members: dict[str, set[str]] = {}
    provinces: dict[str, str] = {}
    for assignment_id, province, unit in rows:
        members.setdefault(assignment_id, set()).add(unit)
        provinces[assignment_id] = province
    matching = sorted(i for i, present in members.items() if set(units) <= present)
    if len(matching) == 1:
        return matching[0]
    where = f"xã {commune[1]} ({commune[0]}) ngày {day:%d/%m/%Y}"
    if not matching:
        helping = "; ".join(f"{i} (tỉnh {provinces[i]})" for i in sorted(members)[:MAX_LISTED])
        raise RuleViolation(
            "assignment_id",
            f"không có phân công nào của {where} mà đơn vị là thành viên"
            + (f"; các phân công của xã hôm đó: {helping}" if helping else "")
            + " / no assignment of that commune on that day has these units as members",
        )
    listed = "; ".join(f"{i} (tỉnh {provinces[i]})" for i in matching[:MAX_LISTED])
    raise RuleViolation(
        "assignment_id",
        f"đơn vị giúp {where} theo nhiều phân công: {listed}; hãy ghi assignment_id / "
        "the units help that commune under several assignments: give assignment_id",
    )
