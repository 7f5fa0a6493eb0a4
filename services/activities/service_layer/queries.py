"""Questions the activities service answers from its read models."""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import (
    activities,
    commitments,
    known_assignments,
    known_members,
    locks,
)
from services.activities.domain.activities import Activity
from services.activities.domain.plans import plan_stream
from services.activities.service_layer import access
from shared import eventstore
from shared.auth import Principal
from shared.db import one_row
from shared.errors import NotFound
from shared.tables import events


async def assignment_scope(conn: AsyncConnection, assignment_id: str) -> tuple[str, set[str]]:
    """The assignment's province and its member units (ever), as the registry said."""
    province = await conn.scalar(
        select(known_assignments.c.province).where(known_assignments.c.id == assignment_id)
    )
    if province is None:
        raise NotFound(
            f"Chưa biết phân công {assignment_id} / assignment {assignment_id} not heard of"
        )
    m = known_members.c
    units = await conn.scalars(select(m.sponsor_unit_id).where(m.assignment_id == assignment_id))
    return province, set(units)


async def readable_activity(
    conn: AsyncConnection, caller: Principal, activity_id: str
) -> dict[str, Any]:
    """The activity, if the caller may read it (its province, or a clerk of one of its
    assignment's units)."""
    found = await find_activity(conn, activity_id)
    province = found["province"]
    units = {c["sponsor_unit_id"] for c in found.get("contributions") or ()}
    if not caller.reads(province):
        units |= (await assignment_scope(conn, found["assignment_id"]))[1]
    access.require_read_assignment(caller, found["assignment_id"], province, units)
    return found


async def require_list(
    conn: AsyncConnection, caller: Principal, province: str | None, assignment_id: str | None
) -> None:
    """May list activities of the province or the assignment named (`access.require_list`)."""
    readable = None
    if assignment_id is not None:
        assignment_province, units = await assignment_scope(conn, assignment_id)
        readable = caller.reads_assignment(assignment_province, units)
    access.require_list(caller, province, readable)


async def readable_assignment(conn: AsyncConnection, caller: Principal, assignment_id: str) -> None:
    province, units = await assignment_scope(conn, assignment_id)
    access.require_read_assignment(caller, assignment_id, province, units)


async def find_activity(conn: AsyncConnection, activity_id: str) -> dict[str, Any]:
    query = select(activities).where(activities.c.id == activity_id)
    missing = f"Không có hoạt động {activity_id} / no activity {activity_id}"
    return _activity(await one_row(conn, query, missing))


def _activity(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "province": row["province"], "voided": row["voided"],
            "version": row["version"], **row["facts"]}  # fmt: skip


def describe(activity: Activity) -> dict[str, Any]:
    """An activity just decided, in the shape `find_activity` reads back."""
    return {"id": activity.id, "province": activity.province, "voided": activity.voided,
            "version": activity.version, **activity.facts.data()}  # fmt: skip


async def history(conn: AsyncConnection, activity_id: str) -> list[dict[str, Any]]:
    """Every event of the activity, oldest first: what was recorded, each correction with
    its reason, the void."""
    events = await eventstore.load_stream(conn, activity_id)
    if not events:
        raise NotFound(f"Không có hoạt động {activity_id} / no activity {activity_id}")
    return [
        {
            "version": e.version,
            "type": e.type,
            "occurred_at": e.occurred_at,
            "correlation_id": e.correlation_id,
            "actor": e.actor.as_dict() if e.actor else None,
            "data": e.data,
        }
        for e in events
    ]


async def list_activities(
    conn: AsyncConnection,
    *,
    province: str | None = None,
    assignment_id: str | None = None,
    commune: tuple[str, str] | None = None,
    category: str | None = None,
    since: date | None = None,
    until: date | None = None,
    include_voided: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    a = activities.c
    conditions = []
    if province is not None:
        conditions.append(a.province == province)
    if assignment_id is not None:
        conditions.append(a.assignment_id == assignment_id)
    if commune is not None:
        conditions += [a.commune_edition == commune[0], a.commune_code == commune[1]]
    if category is not None:
        conditions.append(a.category == category)
    if since is not None:
        conditions.append(a.occurred_on >= since)
    if until is not None:
        conditions.append(a.occurred_on <= until)
    if not include_voided:
        conditions.append(a.voided.is_(False))
    rows = await conn.execute(
        select(activities)
        .where(and_(True, *conditions))
        .order_by(a.occurred_on, a.id)
        .limit(limit)
        .offset(offset)
    )
    return [_activity(row._mapping) for row in rows]


async def plan(conn: AsyncConnection, assignment_id: str, year: int) -> dict[str, Any]:
    """The year's commitments, each with the activities that fulfil it (voided ones do not)
    and, where the plan gives amounts, what was planned beside what was done: the value,
    and the quantity in the planned unit."""
    c, a = commitments.c, activities.c
    fulfilling = func.array_remove(func.array_agg(a.id), None)
    done_value = func.coalesce(func.sum(a.value_vnd), 0)
    same_unit = a.facts["quantity"]["unit"].astext == c.planned_quantity["unit"].astext
    done_amount = func.sum(case((same_unit, cast(a.facts["quantity"]["amount"].astext, Numeric))))
    rows = (
        await conn.execute(
            select(
                c.id,
                c.description,
                c.category,
                c.quarter,
                fulfilling.label("activities"),
                c.planned_value_vnd,
                c.planned_quantity,
                done_value.label("done_value"),
                done_amount.label("done_amount"),
            )
            .outerjoin(
                activities,
                and_(
                    a.assignment_id == c.assignment_id,
                    a.facts["commitment_id"].astext == c.id,
                    func.extract("year", a.occurred_on) == c.year,
                    a.voided.is_(False),
                ),
            )
            .where(c.assignment_id == assignment_id, c.year == year)
            .group_by(
                c.id, c.description, c.category, c.quarter, c.planned_value_vnd, c.planned_quantity
            )
            .order_by(c.quarter.nulls_last(), c.id)
        )
    ).all()
    if not rows and not await eventstore.stream_version(conn, plan_stream(assignment_id, year)):
        raise NotFound(f"Chưa có kế hoạch năm {year} / no plan for {year}")
    return {
        "assignment_id": assignment_id,
        "year": year,
        "commitments": [_versus(row) for row in rows],
    }


async def plans_of(conn: AsyncConnection, assignment_id: str) -> list[dict[str, Any]]:
    """The assignment's yearly plans, an empty one too: how many commitments each has and
    the value they plan."""
    streams = await conn.scalars(
        select(events.c.stream_id)
        .where(events.c.stream_id.startswith(plan_stream(assignment_id, 0)[:-1], autoescape=True))
        .distinct()
    )
    years = {int(stream.rsplit(":", 1)[1]) for stream in streams}
    c = commitments.c
    counted = {
        row.year: row
        for row in await conn.execute(
            select(c.year, func.count().label("commitments"),
                   func.sum(c.planned_value_vnd).label("planned"))
            .where(c.assignment_id == assignment_id)
            .group_by(c.year)
        )
    }  # fmt: skip
    return [
        {"year": year, "commitments": counted[year].commitments if year in counted else 0,
         "planned_value_vnd": int(counted[year].planned)
         if year in counted and counted[year].planned is not None else None}
        for year in sorted(years)
    ]  # fmt: skip


def _versus(row: Any) -> dict[str, Any]:
    planned = row.planned_quantity
    return {
        "id": row.id, "description": row.description, "category": row.category,
        "quarter": row.quarter, "activities": row.activities, "fulfilled": bool(row.activities),
        "planned_value_vnd": row.planned_value_vnd, "actual_value_vnd": int(row.done_value),
        "planned_quantity": planned,
        "actual_quantity": (
            {"amount": format((row.done_amount or Decimal(0)).normalize(), "f"),
             "unit": planned["unit"]} if planned else None
        ),
    }  # fmt: skip


async def list_locks(conn: AsyncConnection, province: str) -> list[dict[str, Any]]:
    """Every lock of the province, in force or unlocked (with when, why and by whom)."""
    rows = await conn.execute(
        select(locks)
        .where(locks.c.province == province)
        .order_by(locks.c.year, locks.c.quarter, locks.c.locked_at, locks.c.id)
    )
    return [_lock(row._mapping) for row in rows]


async def find_lock(conn: AsyncConnection, province: str, lock_id: str) -> dict[str, Any]:
    query = select(locks).where(locks.c.province == province, locks.c.id == lock_id)
    missing = f"Không có khóa {lock_id} của tỉnh {province} / no such lock"
    return _lock(await one_row(conn, query, missing))


def _lock(row: Any) -> dict[str, Any]:
    return {**row, "active": row["unlocked_at"] is None}
