"""Questions the registry answers from its read models."""

from datetime import date
from typing import Any

from sqlalchemy import Table, and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.tables import (
    admin_units,
    assignment_leads,
    assignment_members,
    assignment_targets,
    assignments,
    commune_classifications,
    programmes,
    sponsor_units,
    villages,
)
from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.assignments import DISTRICTS_END, TargetKind
from shared.db import all_rows, one_row
from shared.errors import NotFound


async def _by_id(conn: AsyncConnection, table: Table, row_id: str, missing: str) -> dict[str, Any]:
    """The row of `table` with that id; `NotFound`, saying `missing`, when there is none."""
    return dict(await one_row(conn, select(table).where(table.c.id == row_id), missing))


CURRENT_TARGET = (
    assignment_targets.c.kind.label("target_kind"),
    assignment_targets.c.edition.label("target_edition"),
    assignment_targets.c.code.label("target_code"),
    assignment_targets.c.village_id,
)
"""An assignment's target today (after a succession, the 2025 commune), as the answers
name it: from `assignment_targets` joined on `IS_CURRENT_TARGET`."""
IS_CURRENT_TARGET = and_(
    assignment_targets.c.assignment_id == assignments.c.id, assignment_targets.c.current
)


async def helpers_of_commune(
    conn: AsyncConnection, edition: Edition, code: str, on: date
) -> list[dict[str, Any]]:
    """The assignments that help commune (edition, code), or a village of it, on `on`, each
    with the sponsor units that are members that day and which of them leads that year.

    A commune an assignment was made for still finds it after the assignment continued on
    the commune's 2025 successor (`current_target` is then False), and the successor
    finds it too.
    """
    a, t, m, u, lead = (
        assignments.c,
        assignment_targets.c,
        assignment_members.c,
        sponsor_units.c,
        assignment_leads.c,
    )
    query = (
        select(
            a.id.label("assignment_id"),
            a.province,
            a.programme_id,
            programmes.c.name.label("programme_name"),
            t.kind.label("target_kind"),
            t.village_id,
            t.current.label("current_target"),
            m.sponsor_unit_id,
            u.name.label("sponsor_unit_name"),
            u.kind.label("sponsor_unit_kind"),
            (lead.sponsor_unit_id == m.sponsor_unit_id).label("lead"),
        )
        .select_from(assignment_targets)
        .join(assignments, a.id == t.assignment_id)
        .join(programmes, programmes.c.id == a.programme_id)
        .join(
            assignment_members,
            and_(
                m.assignment_id == a.id,
                m.joined_on <= on,
                or_(m.left_on.is_(None), m.left_on >= on),
            ),
        )
        .join(sponsor_units, u.id == m.sponsor_unit_id)
        .outerjoin(assignment_leads, and_(lead.assignment_id == a.id, lead.year == on.year))
        .where(
            t.edition == edition,
            t.code == code,
            t.kind.in_([TargetKind.COMMUNE, TargetKind.VILLAGE]),
            a.start_year <= on.year,
            a.end_year >= on.year,
            or_(a.ended_on.is_(None), a.ended_on >= on),
        )
        .order_by(a.id, u.name)
    )
    found: dict[str, dict[str, Any]] = {}
    for row in await conn.execute(query):
        entry = found.setdefault(
            row.assignment_id,
            {
                "assignment_id": row.assignment_id,
                "province": row.province,
                "programme_id": row.programme_id,
                "programme_name": row.programme_name,
                "target_kind": row.target_kind,
                "village_id": row.village_id,
                "current_target": row.current_target,
                "sponsor_units": [],
            },
        )
        entry["sponsor_units"].append(
            {
                "id": row.sponsor_unit_id,
                "name": row.sponsor_unit_name,
                "kind": row.sponsor_unit_kind,
                "lead": bool(row.lead),
            }
        )
    return list(found.values())


async def targets_of_unit(
    conn: AsyncConnection, unit_id: str, on: date | None
) -> list[dict[str, Any]]:
    """The assignments sponsor unit `unit_id` belongs to (on `on`, when given), with their
    current target's name and the years the unit leads."""
    await find_sponsor_unit(conn, unit_id)
    a, t, m, unit = assignments.c, assignment_targets.c, assignment_members.c, admin_units.c
    query = (
        select(
            a.id.label("assignment_id"),
            a.province,
            a.programme_id,
            a.start_year,
            a.end_year,
            a.ended_on,
            *CURRENT_TARGET,
            unit.name.label("target_name"),
            m.joined_on,
            m.left_on,
        )
        .select_from(assignment_members)
        .join(assignments, a.id == m.assignment_id)
        .join(assignment_targets, IS_CURRENT_TARGET)
        .outerjoin(
            admin_units,
            and_(
                unit.edition == t.edition,
                unit.code == t.code,
                unit.level
                == case((t.kind == TargetKind.DISTRICT, Level.DISTRICT), else_=Level.COMMUNE),
            ),
        )
        .where(m.sponsor_unit_id == unit_id)
        .order_by(a.start_year, t.code)
    )
    if on is not None:
        query = query.where(
            m.joined_on <= on,
            or_(m.left_on.is_(None), m.left_on >= on),
            or_(a.ended_on.is_(None), a.ended_on >= on),
        )
    found = await all_rows(conn, query)
    led = await conn.execute(
        select(assignment_leads.c.assignment_id, assignment_leads.c.year)
        .where(assignment_leads.c.sponsor_unit_id == unit_id)
        .order_by(assignment_leads.c.year)
    )
    years: dict[str, list[int]] = {}
    for assignment_id, year in led:
        years.setdefault(assignment_id, []).append(year)
    for entry in found:
        entry["lead_years"] = years.get(entry["assignment_id"], [])
    return found


async def lead_of(conn: AsyncConnection, assignment_id: str, year: int) -> dict[str, Any]:
    assignment = await find_assignment(conn, assignment_id)
    if not assignment["start_year"] <= year <= assignment["end_year"]:
        raise NotFound(
            f"Năm {year} ngoài giai đoạn {assignment['start_year']}-{assignment['end_year']} / "
            f"{year} is outside the assignment's period"
        )
    lead = assignment_leads.c
    row = (
        await conn.execute(
            select(sponsor_units.c.id, sponsor_units.c.name)
            .join(assignment_leads, lead.sponsor_unit_id == sponsor_units.c.id)
            .where(lead.assignment_id == assignment_id, lead.year == year)
        )
    ).one_or_none()
    return {
        "assignment_id": assignment_id,
        "year": year,
        "lead": dict(row._mapping) if row else None,
    }


async def find_programme(conn: AsyncConnection, programme_id: str) -> dict[str, Any]:
    missing = f"Không có chương trình {programme_id} / no programme {programme_id}"
    return await _by_id(conn, programmes, programme_id, missing)


async def find_assignment(conn: AsyncConnection, assignment_id: str) -> dict[str, Any]:
    """The assignment as the read model holds it: targets (as made, then successors),
    members with their dates, the lead of each year."""
    missing = f"Không có phân công {assignment_id} / no assignment {assignment_id}"
    found = await _by_id(conn, assignments, assignment_id, missing)
    mine = assignment_targets.c.assignment_id == assignment_id
    found["targets"] = await all_rows(
        conn, select(assignment_targets).where(mine).order_by(assignment_targets.c.seq)
    )
    m = assignment_members.c
    found["members"] = await all_rows(
        conn,
        select(m.sponsor_unit_id, sponsor_units.c.name, m.joined_on, m.left_on)
        .join(sponsor_units, sponsor_units.c.id == m.sponsor_unit_id)
        .where(m.assignment_id == assignment_id)
        .order_by(m.joined_on, sponsor_units.c.name),
    )
    leads = await conn.execute(
        select(assignment_leads.c.year, assignment_leads.c.sponsor_unit_id)
        .where(assignment_leads.c.assignment_id == assignment_id)
        .order_by(assignment_leads.c.year)
    )
    found["leads"] = {str(year): unit for year, unit in leads}
    found["continued_by"] = list(
        await conn.scalars(
            select(assignments.c.id)
            .where(assignments.c.continues == assignment_id)
            .order_by(assignments.c.id)
        )
    )
    found["ends_on"] = found["ended_on"]
    if found["recorded_kind"] == "district":  # districts ended with June 2025
        found["ends_on"] = min(found["ended_on"] or DISTRICTS_END, DISTRICTS_END)
    return found


async def list_assignments(conn: AsyncConnection, programme_id: str) -> list[dict[str, Any]]:
    a = assignments.c
    return await all_rows(
        conn,
        select(a.id, a.version, a.ended_on, *CURRENT_TARGET)
        .join(assignment_targets, IS_CURRENT_TARGET)
        .where(a.programme_id == programme_id)
        .order_by(assignment_targets.c.code, a.id),
    )


async def find_sponsor_unit(conn: AsyncConnection, unit_id: str) -> dict[str, Any]:
    missing = f"Không có đơn vị {unit_id} / no sponsor unit {unit_id}"
    return await _by_id(conn, sponsor_units, unit_id, missing)


async def list_sponsor_units(conn: AsyncConnection, province: str) -> list[dict[str, Any]]:
    return await all_rows(
        conn,
        select(sponsor_units)
        .where(sponsor_units.c.province == province)
        .order_by(sponsor_units.c.name),
    )


async def list_programmes(conn: AsyncConnection, province: str) -> list[dict[str, Any]]:
    return await all_rows(
        conn,
        select(programmes)
        .where(programmes.c.province == province)
        .order_by(programmes.c.start_year, programmes.c.name),
    )


async def list_villages(conn: AsyncConnection, edition: Edition, code: str) -> list[dict[str, Any]]:
    return await all_rows(
        conn,
        select(villages)
        .where(villages.c.commune_edition == edition, villages.c.commune_code == code)
        .order_by(villages.c.name),
    )


async def classifications(
    conn: AsyncConnection, edition: Edition, code: str
) -> list[dict[str, Any]]:
    """Every classification of the commune, oldest first, in the order they were recorded
    when two take effect the same day; the last of a kind is the one in force."""
    c = commune_classifications.c
    return await all_rows(
        conn,
        select(c.kind, c.value, c.effective_on, c.source, c.position)
        .where(c.commune_edition == edition, c.commune_code == code)
        .order_by(c.kind, c.effective_on, c.position),
    )


async def province_assignments(
    conn: AsyncConnection, province: str, units: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """The province's assignments with names: programme, target as made and today (with
    the commune's name), members with their dates, the lead of each year. `units`, when
    given, keeps only the assignments one of those units belongs to (a clerk's view)."""
    a, t, m = assignments.c, assignment_targets.c, assignment_members.c
    query = (
        select(a.id, a.programme_id, programmes.c.name, a.start_year, a.end_year, a.ended_on,
               a.version)
        .join(programmes, programmes.c.id == a.programme_id)
        .where(a.province == province)
    )  # fmt: skip
    if units is not None:
        query = query.where(
            a.id.in_(select(m.assignment_id).where(m.sponsor_unit_id.in_(sorted(units))))
        )
    found = {
        row.id: {
            "id": row.id, "programme_id": row.programme_id, "programme_name": row.name,
            "start_year": row.start_year, "end_year": row.end_year, "ended_on": row.ended_on,
            "version": row.version, "targets": [], "members": [], "leads": {},
        }
        for row in await conn.execute(query.order_by(a.id))
    }  # fmt: skip
    if not found:
        return []
    ids = sorted(found)
    named = and_(admin_units.c.code == t.code, admin_units.c.edition == t.edition,
                 admin_units.c.level == t.kind)  # fmt: skip
    for row in await conn.execute(
        select(t.assignment_id, t.kind, t.edition, t.code, t.current, admin_units.c.name)
        .outerjoin(admin_units, named)
        .where(t.assignment_id.in_(ids))
        .order_by(t.assignment_id, t.seq)
    ):
        found[row.assignment_id]["targets"].append(
            {"kind": row.kind, "edition": row.edition, "code": row.code,
             "name": row.name, "current": row.current}
        )  # fmt: skip
    for member in await conn.execute(
        select(m.assignment_id, m.sponsor_unit_id, sponsor_units.c.name, m.joined_on, m.left_on)
        .join(sponsor_units, sponsor_units.c.id == m.sponsor_unit_id)
        .where(m.assignment_id.in_(ids))
        .order_by(m.assignment_id, m.joined_on, sponsor_units.c.name)
    ):
        found[member.assignment_id]["members"].append(
            {"sponsor_unit_id": member.sponsor_unit_id, "name": member.name,
             "joined_on": member.joined_on, "left_on": member.left_on}
        )  # fmt: skip
    lead = assignment_leads.c
    for led in await conn.execute(
        select(lead.assignment_id, lead.year, lead.sponsor_unit_id, sponsor_units.c.name)
        .join(sponsor_units, sponsor_units.c.id == lead.sponsor_unit_id)
        .where(lead.assignment_id.in_(ids))
        .order_by(lead.assignment_id, lead.year)
    ):
        found[led.assignment_id]["leads"][str(led.year)] = {
            "sponsor_unit_id": led.sponsor_unit_id, "name": led.name,
        }  # fmt: skip
    return sorted(found.values(), key=lambda entry: entry["targets"][0]["code"])
