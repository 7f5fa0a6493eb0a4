"""The reports provinces owe, from the projections.

Every report counts the activities in force (not voided; the latest correction), or those
in force at an `as_of` moment, and says up to which events it counts. A co-funded
activity's value is split by the units' recorded shares, never counted twice.

Editions: a report is either as recorded (old communes and provinces as the activities
named them) or mapped onto today's units through the lineage; a commune that was split
between several new ones is never divided: its figures stay with the old unit, listed
with its successors.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Numeric,
    Select,
    Table,
    and_,
    any_,
    cast,
    column,
    distinct,
    exists,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from services.reporting.adapters.tables import (
    activity_versions,
    assignment_targets,
    assignments,
    commitments,
    commune_beneficiaries,
    commune_quantities,
    commune_totals,
    commune_unit_totals,
    communes,
    leads,
    members,
    province_totals,
    sponsor_units,
    successions,
)
from shared import provinces
from shared.catalogue import BENEFICIARY_GROUPS, BENEFICIARY_KINDS, CATEGORIES
from shared.editions import FROM_2025, PRE_2025
from shared.errors import NotFound, RuleViolation
from shared.tables import consumer_positions


def _category(code: str) -> str:
    """The catalogue's Vietnamese label of a category code, beside the code in answers."""
    return CATEGORIES.get(code, code)


def _text(document: Any, *path: str) -> Any:
    """`document #>> path` with the path written into the SQL, so that the same
    expression in SELECT and GROUP BY is the same to PostgreSQL."""
    keys = ", ".join(f"'{key}'" for key in path)
    return func.jsonb_extract_path_text(document, literal_column(keys))


def _elements(document: Any, key: str) -> Any:
    """The elements of a JSON array field, as rows with one `value` column."""
    array = func.jsonb_extract_path(document, literal_column(f"'{key}'"))
    return func.jsonb_array_elements(array).table_valued(column("value", JSONB)).render_derived()


@dataclass(frozen=True)
class Scope:
    """Which activities a report counts."""

    programme_id: str | None = None
    year: int | None = None
    quarter: int | None = None
    as_of: datetime | None = None
    mapped: bool = False  # onto today's communes through the lineage
    # Only activities recorded in these provinces: a caller who reaches a commune through
    # an assignment (not through the commune's province) sees that assignment's rows only.
    provinces: frozenset[str] | None = None


def in_force(scope: Scope) -> Select[Any]:
    """The activity versions in force (now, or at `as_of`) and not voided, within the
    scope's programme and period."""
    a = activity_versions.c
    when = (
        a.valid_to.is_(None)
        if scope.as_of is None
        else and_(a.valid_from <= scope.as_of, or_(a.valid_to.is_(None), a.valid_to > scope.as_of))
    )
    query = select(activity_versions).where(when, a.voided.is_(False))
    # A period as a range of days, which the (province | commune, occurred_on) indexes
    # serve; a quarter of any year stays a test on each day.
    if scope.year is not None and scope.quarter is not None:
        first = date(scope.year, 3 * scope.quarter - 2, 1)
        after = date(scope.year + scope.quarter // 4, 3 * scope.quarter % 12 + 1, 1)
        query = query.where(a.occurred_on >= first, a.occurred_on < after)
    elif scope.year is not None:
        query = query.where(
            a.occurred_on >= date(scope.year, 1, 1), a.occurred_on < date(scope.year + 1, 1, 1)
        )
    elif scope.quarter is not None:
        query = query.where(extract("quarter", a.occurred_on) == scope.quarter)
    if scope.provinces is not None:
        query = query.where(a.province.in_(sorted(scope.provinces)))
    if scope.programme_id is not None:
        query = query.where(
            a.assignment_id.in_(
                select(assignments.c.id).where(assignments.c.programme_id == scope.programme_id)
            )
        )
    return query


async def commune_report(
    conn: AsyncConnection, edition: str, code: str, scope: Scope
) -> dict[str, Any]:
    if scope.mapped and edition != FROM_2025:
        raise RuleViolation(
            "edition", "chỉ quy đổi sang đơn vị từ 2025 / map onto a 2025 commune", location="path"
        )
    name = await conn.scalar(
        select(communes.c.name).where(communes.c.edition == edition, communes.c.code == code)
    )
    report = {
        "commune": {"edition": edition, "code": code, "name": name},
        "scope": _scope(scope),
        **await _commune_figures(conn, edition, code, scope),
        "counted_up_to": await counted_up_to(conn),
    }
    if scope.mapped:
        report["split_predecessors"] = await _split_predecessors(conn, code, scope)
    return report


def kept(scope: Scope) -> bool:
    """Whether the kept sums answer for `scope`: activities in force now, of any programme,
    every province's rows. Otherwise the activities are counted one by one."""
    return scope.as_of is None and scope.programme_id is None and scope.provinces is None


async def _commune_figures(
    conn: AsyncConnection, edition: str, code: str, scope: Scope, *, count: bool = False
) -> dict[str, Any]:
    """The commune's figures: added up from the kept sums when the scope allows (`count`
    makes it count the activities anyway, to hold the two equal in tests)."""
    if count or not kept(scope):
        return await _figures(conn, _commune_activities(edition, code, scope).subquery())

    def place(t: Table) -> ColumnElement[bool]:
        if scope.mapped:
            return _maps_onto(t.c.edition, t.c.code, [code], successions.c.new_code == code)
        return and_(t.c.edition == edition, t.c.code == code)

    return await _kept_figures(conn, place, scope)


def _commune_activities(edition: str, code: str, scope: Scope) -> Select[Any]:
    a = activity_versions.c
    query = in_force(scope)
    if not scope.mapped:
        return query.where(a.commune_edition == edition, a.commune_code == code)
    return query.where(
        _maps_onto(a.commune_edition, a.commune_code, [code], successions.c.new_code == code)
    )


async def _split_predecessors(
    conn: AsyncConnection, code: str, scope: Scope
) -> list[dict[str, Any]]:
    """Old communes split between this one and others: their figures, not divided."""
    found = []
    split = await conn.execute(
        select(successions.c.old_code, successions.c.successors, communes.c.name)
        .join(
            communes,
            and_(communes.c.edition == PRE_2025, communes.c.code == successions.c.old_code),
        )
        .where(successions.c.new_code.is_(None), literal(code) == any_(successions.c.successors))
    )
    for old_code, successors, name in split:
        as_recorded = replace(scope, mapped=False)
        totals = (await _commune_figures(conn, PRE_2025, old_code, as_recorded))["totals"]
        if totals["activities"]:
            found.append(
                {"old_code": old_code, "old_name": name, "successors": successors, **totals}
            )
    return found


async def _figures(conn: AsyncConnection, counted: Any) -> dict[str, Any]:
    c = counted.c
    totals = (
        await conn.execute(
            select(func.coalesce(func.sum(c.value_vnd), 0), func.count()).select_from(counted)
        )
    ).one()
    year, quarter = extract("year", c.occurred_on), extract("quarter", c.occurred_on)
    by_period = await conn.execute(
        select(cast(year, Integer), cast(quarter, Integer), func.sum(c.value_vnd), func.count())
        .group_by(year, quarter)
        .order_by(year, quarter)
    )
    by_category = await conn.execute(
        select(c.category, func.sum(c.value_vnd), func.count())
        .group_by(c.category)
        .order_by(c.category)
    )
    share = _elements(c.facts, "contributions")
    unit_id = _text(share.c.value, "sponsor_unit_id")
    by_unit = await conn.execute(
        select(
            unit_id,
            sponsor_units.c.name,
            func.sum(cast(_text(share.c.value, "value_vnd"), Numeric)),
            func.count(),
        )
        .select_from(counted)
        .join(share, literal(True))
        .outerjoin(sponsor_units, sponsor_units.c.id == unit_id)
        .group_by(unit_id, sponsor_units.c.name)
        .order_by(sponsor_units.c.name, unit_id)
    )
    unit = _text(c.facts, "quantity", "unit")
    by_quantity = await conn.execute(  # cows and pigs are both "con": never one number
        select(c.category, unit, func.sum(cast(_text(c.facts, "quantity", "amount"), Numeric)))
        .where(unit.is_not(None))
        .group_by(c.category, unit)
        .order_by(c.category, unit)
    )
    group = _elements(c.facts, "beneficiaries")
    kind, who = _text(group.c.value, "kind"), _text(group.c.value, "group")
    by_beneficiaries = await conn.execute(
        select(kind, who, func.sum(cast(_text(group.c.value, "count"), BigInteger)))
        .select_from(counted)
        .join(group, literal(True))
        .group_by(kind, who)
        .order_by(kind, who)
    )
    return _shaped(totals, by_period, by_category, by_unit, by_quantity, by_beneficiaries)


async def _kept_figures(
    conn: AsyncConnection, place: Callable[[Table], ColumnElement[bool]], scope: Scope
) -> dict[str, Any]:
    """`_figures` added up from the kept sums of the communes `place` picks, in the scope's
    year and quarter. A row whose activities were all corrected away or voided (kept, at
    zero) is left out, as counting would leave it."""

    def mine(t: Table) -> ColumnElement[bool]:
        where = place(t)
        if scope.year is not None:
            where = and_(where, t.c.year == scope.year)
        if scope.quarter is not None:
            where = and_(where, t.c.quarter == scope.quarter)
        return where

    def summed(t: Table, *key: Any, measure: str = "value_vnd") -> Select[Any]:
        n = func.sum(t.c.activities)
        return select(*key, func.sum(t.c[measure]), n).where(mine(t)).group_by(*key).having(n > 0)

    t, u, q, b = commune_totals, commune_unit_totals, commune_quantities, commune_beneficiaries
    by_period = await conn.execute(summed(t, t.c.year, t.c.quarter).order_by(t.c.year, t.c.quarter))
    by_category = (await conn.execute(summed(t, t.c.category).order_by(t.c.category))).all()
    by_unit = await conn.execute(
        summed(u, u.c.sponsor_unit_id, sponsor_units.c.name)
        .outerjoin(sponsor_units, sponsor_units.c.id == u.c.sponsor_unit_id)
        .order_by(sponsor_units.c.name, u.c.sponsor_unit_id)
    )
    by_quantity = await conn.execute(
        summed(q, q.c.category, q.c.unit, measure="amount").order_by(q.c.category, q.c.unit)
    )
    people = b.c.kind, b.c["group"]
    by_beneficiaries = await conn.execute(summed(b, *people, measure="count").order_by(*people))
    totals = (sum(row[1] for row in by_category), sum(row[2] for row in by_category))
    return _shaped(
        totals,
        by_period,
        by_category,
        by_unit,
        (row[:3] for row in by_quantity),
        (row[:3] for row in by_beneficiaries),
    )


def _shaped(
    totals: Any,
    by_period: Iterable[Any],
    by_category: Iterable[Any],
    by_unit: Iterable[Any],
    by_quantity: Iterable[Any],
    by_beneficiaries: Iterable[Any],
) -> dict[str, Any]:
    """The figures' one shape, from counted or kept rows."""
    return {
        "totals": {"value_vnd": int(totals[0]), "activities": int(totals[1])},
        "by_period": [
            {"year": y, "quarter": q, "value_vnd": int(v), "activities": int(n)}
            for y, q, v, n in by_period
        ],
        "by_category": [
            {"category": k, "label": _category(k), "value_vnd": int(v), "activities": int(n)}
            for k, v, n in by_category
        ],
        "by_sponsor_unit": [
            {"sponsor_unit_id": u, "name": name, "value_vnd": int(v), "activities": int(n)}
            for u, name, v, n in by_unit
        ],
        "quantities": [
            {
                "category": k,
                "label": _category(k),
                "unit": u,
                "amount": format(Decimal(amount).normalize(), "f"),
            }
            for k, u, amount in by_quantity
        ],
        "beneficiaries": [
            {
                "kind": k,
                "group": g,
                "count": int(n),
                "label": f"{BENEFICIARY_KINDS.get(k, k)} – {BENEFICIARY_GROUPS.get(g, g)}",
            }
            for k, g, n in by_beneficiaries
        ],
    }


async def drill_down(
    conn: AsyncConnection, edition: str, code: str, scope: Scope, category: str | None, limit: int
) -> list[dict[str, Any]]:
    """The activities behind a commune report's figures."""
    return await _listed(conn, _commune_activities(edition, code, scope), category, limit)


async def province_drill_down(
    conn: AsyncConnection, province: str, scope: Scope, category: str | None, limit: int
) -> list[dict[str, Any]]:
    """The activities behind a province summary's figures (a year, a quarter, a category),
    as recorded or, mapped, those at its 2025 communes and their wholly merged predecessors."""
    check_mapped(province, scope)
    a = activity_versions.c
    mine = (
        _maps_into(province, a.commune_edition, a.commune_code)
        if scope.mapped
        else a.province == province
    )
    return await _listed(conn, in_force(scope).where(mine), category, limit)


async def _listed(
    conn: AsyncConnection, query: Select[Any], category: str | None, limit: int
) -> list[dict[str, Any]]:
    a = activity_versions.c
    if category is not None:
        query = query.where(a.category == category)
    rows = (await conn.execute(query.order_by(a.occurred_on, a.activity_id).limit(limit))).all()
    units = {c["sponsor_unit_id"] for r in rows for c in r.facts["contributions"]}
    names = dict(
        (await conn.execute(
            select(sponsor_units.c.id, sponsor_units.c.name).where(sponsor_units.c.id.in_(units))
        )).all()
    ) if units else {}  # fmt: skip
    return [
        {"activity_id": r.activity_id, "version": r.version, "occurred_on": r.occurred_on,
         "commune": {"edition": r.commune_edition, "code": r.commune_code},
         "category": r.category, "label": _category(r.category), "value_vnd": r.value_vnd,
         "description": r.facts["description"],
         "contributions": [{**c, "name": names.get(c["sponsor_unit_id"])}
                           for c in r.facts["contributions"]]}
        for r in rows
    ]  # fmt: skip


async def province_summary(conn: AsyncConnection, province: str, scope: Scope) -> dict[str, Any]:
    """The figures provinces publish: how many units twin with how many communes (and
    districts with districts), total value per year and per category, the lead roster."""
    check_mapped(province, scope)
    a, t, m = assignments.c, assignment_targets.c, members.c
    target: ColumnElement[bool]
    active: ColumnElement[bool]
    if scope.mapped:  # assignments whose target today is one of the province's communes
        target = t.current.is_(True)
        today = select(t.assignment_id).where(t.current, _maps_into(province, t.edition, t.code))
        active = a.id.in_(today)
    else:
        target = t.seq == 1
        active = a.province == province
    if scope.year is not None:
        active = and_(active, a.start_year <= scope.year, a.end_year >= scope.year)
    if scope.programme_id is not None:
        active = and_(active, a.programme_id == scope.programme_id)
    units = await conn.scalar(
        select(func.count(distinct(m.sponsor_unit_id)))
        .join(assignments, a.id == m.assignment_id)
        .where(active)
    )
    assignment_count = await conn.scalar(
        select(func.count()).select_from(assignments).where(active)
    )
    targets = (
        await conn.execute(
            select(t.kind, func.count(distinct(t.code)))
            .join(assignments, a.id == t.assignment_id)
            .where(active, target)
            .group_by(t.kind)
        )
    ).all()
    per_year, figures = await _province_figures(conn, province, scope)
    reached = provinces.reach(frozenset({province})) if scope.mapped else frozenset({province})
    by_district = await _by_district(conn, reached, scope)
    roster = await conn.execute(
        select(leads.c.year, sponsor_units.c.name, t.kind, t.code, communes.c.name)
        .join(assignments, a.id == leads.c.assignment_id)
        .join(sponsor_units, sponsor_units.c.id == leads.c.sponsor_unit_id)
        .join(assignment_targets, and_(t.assignment_id == a.id, target))
        .outerjoin(communes, and_(communes.c.edition == t.edition, communes.c.code == t.code))
        .where(active if scope.year is None else and_(active, leads.c.year == scope.year))
        .order_by(leads.c.year, t.code)
    )
    by_kind: dict[str, int] = {kind: count for kind, count in targets}
    summary = {
        "province": province,
        "scope": _scope(scope),
        "sponsor_units": units or 0,
        "assignments": assignment_count or 0,
        "communes": by_kind.get("commune", 0) + by_kind.get("village", 0),
        "districts": by_kind.get("district", 0),
        "totals": figures["totals"],
        "by_year": per_year,
        "by_period": figures["by_period"],
        "by_category": figures["by_category"],
        "by_district": by_district,
        "lead_roster": [
            {"year": y, "lead": unit, "target_kind": kind, "target_code": code, "target_name": name}
            for y, unit, kind, code, name in roster
        ],
        "counted_up_to": await counted_up_to(conn),
    }
    if scope.mapped:
        summary["split_predecessors"] = await _split_in_province(conn, province, scope)
    return summary


DISTRICTS_END = date(2025, 6, 30)  # districts were abolished on 1 July 2025


def _district_activities(scope: Scope, code: str | None = None) -> Select[Any]:
    """Activities of district twinning (of one district's, if `code`): those recorded
    for an assignment made for a district, at its communes."""
    t = assignment_targets.c
    district = and_(t.seq == 1, t.kind == "district")
    if code is not None:
        district = and_(district, t.code == code)
    assigned = select(t.assignment_id).where(district)
    return in_force(replace(scope, mapped=False)).where(
        activity_versions.c.assignment_id.in_(assigned)
    )


async def _by_district(
    conn: AsyncConnection, province_codes: frozenset[str], scope: Scope
) -> list[dict[str, Any]]:
    """District twinning in the provinces: value and activities per district."""
    counted = _district_activities(replace(scope, provinces=province_codes)).subquery()
    c, t = counted.c, assignment_targets.c
    rows = await conn.execute(
        select(t.code, t.name, func.coalesce(func.sum(c.value_vnd), 0), func.count(c.activity_id))
        .select_from(assignment_targets)
        .join(assignments, assignments.c.id == t.assignment_id)
        .outerjoin(counted, c.assignment_id == t.assignment_id)
        .where(t.seq == 1, t.kind == "district", assignments.c.province.in_(sorted(province_codes)))
        .group_by(t.code, t.name)
        .order_by(t.code)
    )
    return [
        {"code": code, "name": name, "value_vnd": int(value), "activities": count}
        for code, name, value, count in rows
    ]


async def district_report(
    conn: AsyncConnection, province: str, code: str, scope: Scope
) -> dict[str, Any]:
    """Huyện kết nghĩa: the figures of a district's twinning, and by the commune each
    activity was recorded at. Districts ended on 30 June 2025: there is nothing to map."""
    if scope.mapped:
        raise RuleViolation(
            "mapped",
            "huyện không còn từ 01/7/2025, không quy đổi được / districts ended on 30 June "
            "2025: a district report is as recorded",
            location="query",
        )
    a, t = assignments.c, assignment_targets.c
    mine = and_(t.seq == 1, t.kind == "district", t.code == code, a.province == province)
    if scope.programme_id is not None:
        mine = and_(mine, a.programme_id == scope.programme_id)
    made = (
        await conn.execute(
            select(a.id, a.ended_on, t.name)
            .join(assignment_targets, t.assignment_id == a.id)
            .where(mine)
            .order_by(a.id)
        )
    ).all()
    if not made:
        raise NotFound(
            f"Tỉnh {province} không có phân công giúp huyện {code} / province {province} has "
            f"no assignment for district {code}"
        )
    counted = _district_activities(replace(scope, provinces=frozenset({province})), code).subquery()
    c = counted.c
    by_commune = await conn.execute(
        select(c.commune_edition, c.commune_code, communes.c.name, func.sum(c.value_vnd),
               func.count())
        .outerjoin(communes, and_(communes.c.edition == c.commune_edition,
                                  communes.c.code == c.commune_code))
        .group_by(c.commune_edition, c.commune_code, communes.c.name)
        .order_by(c.commune_code)
    )  # fmt: skip
    return {
        "district": {"edition": PRE_2025, "code": code, "name": made[0].name},
        "province": province,
        "scope": _scope(scope),
        "assignments": [
            {"assignment_id": row.id, "ends_on": min(row.ended_on or DISTRICTS_END, DISTRICTS_END)}
            for row in made
        ],
        **await _figures(conn, counted),
        "by_commune": [
            {"edition": e, "code": k, "name": n, "value_vnd": int(v), "activities": count}
            for e, k, n, v, count in by_commune
        ],
        "counted_up_to": await counted_up_to(conn),
    }


def _maps_into(province: str, edition: Any, code: Any) -> ColumnElement[bool]:
    """`(edition, code)` is one of `province`'s communes from 1 July 2025, or an old commune
    that went wholly into one of them."""
    today = select(communes.c.code).where(
        communes.c.edition == FROM_2025, communes.c.province_code == province
    )
    return _maps_onto(edition, code, today, successions.c.new_province == province)


def _maps_onto(
    edition: Any, code: Any, today: Any, went_into: ColumnElement[bool]
) -> ColumnElement[bool]:
    """`(edition, code)` is one of the 2025 communes `today`, or an old commune whose
    succession `went_into` one of them whole."""
    whole = select(successions.c.old_code).where(went_into)
    return or_(
        and_(edition == FROM_2025, code.in_(today)), and_(edition == PRE_2025, code.in_(whole))
    )


async def _split_in_province(
    conn: AsyncConnection, province: str, scope: Scope
) -> list[dict[str, Any]]:
    """Old communes split between several new ones, one of them in `province`, and their
    figures: reported with the old commune, never divided."""
    s, new = successions.c, communes.alias("new")
    split = (
        select(s.old_code)
        .where(
            s.new_code.is_(None),
            exists().where(
                new.c.edition == FROM_2025,
                new.c.province_code == province,
                new.c.code == any_(s.successors),
            ),
        )
        .scalar_subquery()
    )
    counted = in_force(replace(scope, mapped=False)).subquery()
    c = counted.c
    rows = await conn.execute(
        select(c.commune_code, communes.c.name, s.successors, func.sum(c.value_vnd), func.count())
        .join(successions, s.old_code == c.commune_code)
        .outerjoin(
            communes, and_(communes.c.edition == PRE_2025, communes.c.code == c.commune_code)
        )
        .where(c.commune_edition == PRE_2025, c.commune_code.in_(split))
        .group_by(c.commune_code, communes.c.name, s.successors)
        .order_by(c.commune_code)
    )
    return [
        {"old_code": code, "old_name": name, "successors": successors, "value_vnd": int(value),
         "activities": count}
        for code, name, successors, value, count in rows
    ]  # fmt: skip


async def _province_figures(
    conn: AsyncConnection, province: str, scope: Scope
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per year, and totals and categories in the scope: from the kept totals when the
    scope allows (activities in force now, any programme: the province's, or mapped, its
    communes'), else counted."""
    if scope.as_of is None and scope.programme_id is None:
        t = commune_totals.c if scope.mapped else province_totals.c
        mine = (
            _maps_into(province, commune_totals.c.edition, commune_totals.c.code)
            if scope.mapped
            else province_totals.c.province == province
        )
        if scope.year is not None:
            mine = and_(mine, t.year == scope.year)
        if scope.quarter is not None:
            mine = and_(mine, t.quarter == scope.quarter)
        years = await conn.execute(
            select(t.year, func.sum(t.value_vnd), func.sum(t.activities))
            .where(mine)
            .group_by(t.year)
            .having(func.sum(t.activities) > 0)
            .order_by(t.year)
        )
        periods = await conn.execute(
            select(t.year, t.quarter, func.sum(t.value_vnd), func.sum(t.activities))
            .where(mine)
            .group_by(t.year, t.quarter)
            .having(func.sum(t.activities) > 0)
            .order_by(t.year, t.quarter)
        )
        by_period = [
            {"year": y, "quarter": q, "value_vnd": int(v), "activities": int(n)}
            for y, q, v, n in periods
        ]
        categories = (
            await conn.execute(
                select(t.category, func.sum(t.value_vnd), func.sum(t.activities))
                .where(mine)
                .group_by(t.category)
                .having(func.sum(t.activities) > 0)
                .order_by(t.category)
            )
        ).all()
        figures = {
            "totals": {
                "value_vnd": sum(int(v) for _c, v, _n in categories),
                "activities": sum(int(n) for _c, _v, n in categories),
            },
            "by_category": [
                {"category": k, "label": _category(k), "value_vnd": int(v), "activities": int(n)}
                for k, v, n in categories
            ],
            "by_period": by_period,
        }
    else:
        v = activity_versions.c
        mine = (
            _maps_into(province, v.commune_edition, v.commune_code)
            if scope.mapped
            else v.province == province
        )
        counted = in_force(scope).where(mine).subquery()
        c = counted.c
        year = cast(extract("year", c.occurred_on), Integer)
        years = await conn.execute(
            select(year, func.sum(c.value_vnd), func.count()).group_by(year).order_by(year)
        )
        figures = await _figures(conn, counted)
    per_year = [{"year": y, "value_vnd": int(v), "activities": int(n)} for y, v, n in years]
    return per_year, figures


async def sponsor_unit_report(conn: AsyncConnection, unit_id: str, scope: Scope) -> dict[str, Any]:
    """What the unit did, where, per year (its shares); and the years it was assigned
    and recorded nothing."""
    unit = (
        await conn.execute(select(sponsor_units).where(sponsor_units.c.id == unit_id))
    ).one_or_none()
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id} / no sponsor unit {unit_id}")
    counted = in_force(scope).subquery("counted")
    c = counted.c
    share = _elements(c.facts, "contributions")
    year = cast(extract("year", c.occurred_on), Integer)
    named = and_(communes.c.edition == c.commune_edition, communes.c.code == c.commune_code)
    value = func.sum(cast(_text(share.c.value, "value_vnd"), Numeric))
    done = await conn.execute(
        select(year, c.commune_edition, c.commune_code, communes.c.name, value, func.count())
        .select_from(counted)
        .join(share, literal(True))
        .outerjoin(communes, named)
        .where(_text(share.c.value, "sponsor_unit_id") == unit_id)
        .group_by(year, c.commune_edition, c.commune_code, communes.c.name)
        .order_by(year, c.commune_code)
    )
    rows = [
        {
            "year": y,
            "commune": {"edition": e, "code": k, "name": n},
            "value_vnd": int(v),
            "activities": cnt,
        }
        for y, e, k, n, v, cnt in done
    ]
    active_years = set()
    spans = await conn.execute(
        select(
            members.c.joined_on,
            members.c.left_on,
            assignments.c.start_year,
            assignments.c.end_year,
            assignments.c.ended_on,
        )
        .join(assignments, assignments.c.id == members.c.assignment_id)
        .where(members.c.sponsor_unit_id == unit_id)
    )
    for joined, left, start, end, ended in spans:
        last = min(end, (left or date.max).year, (ended or date.max).year)
        active_years |= set(range(max(start, joined.year), last + 1))
    if scope.year is not None:
        active_years &= {scope.year}
    return {
        "sponsor_unit": {"id": unit.id, "name": unit.name, "province": unit.province},
        "scope": _scope(scope),
        "activities": rows,
        "assigned_years_without_activity": sorted(active_years - {r["year"] for r in rows}),
        "counted_up_to": await counted_up_to(conn),
    }


def check_mapped(province: str, scope: Scope) -> None:
    """Mapping onto the 2025 communes is asked of a 2025 province: a province the reform
    merged away is a 422 naming the province it went into."""
    if not scope.mapped or province in provinces.predecessors():
        return
    into = sorted(new for new, old in provinces.predecessors().items() if province in old)
    raise RuleViolation(
        "province",
        f"tỉnh {province} không còn từ 01/7/2025: hãy xem tỉnh {', '.join(into)} / province "
        f"{province} was merged into {', '.join(into)}: ask that province's report mapped",
        location="path",
    )


async def coverage(conn: AsyncConnection, province: str, scope: Scope) -> dict[str, Any]:
    """Assigned communes with no activity in the year (or quarter); mapped, the
    assignments whose commune today is one of the (2025) province's."""
    if scope.year is None:
        raise RuleViolation("year", "cần chọn năm / a year is required", location="query")
    check_mapped(province, scope)
    a, t = assignments.c, assignment_targets.c
    counted = in_force(replace(scope, mapped=False)).subquery("counted")
    helped = exists(select(1).select_from(counted).where(counted.c.assignment_id == a.id))
    mine: ColumnElement[bool] = (
        _maps_into(province, t.edition, t.code) if scope.mapped else a.province == province
    )
    rows = await conn.execute(
        select(a.id, t.kind, t.edition, t.code, communes.c.name)
        .join(assignment_targets, and_(t.assignment_id == a.id, t.current))
        .outerjoin(communes, and_(communes.c.edition == t.edition, communes.c.code == t.code))
        .where(
            mine,
            a.start_year <= scope.year,
            a.end_year >= scope.year,
            or_(a.ended_on.is_(None), extract("year", a.ended_on) >= scope.year),
            t.kind != "district",
            ~helped,
        )
        .order_by(t.code)
    )
    return {
        "province": province,
        "scope": _scope(scope),
        "without_activity": [
            {"assignment_id": i, "target_kind": k, "edition": e, "code": c, "name": n}
            for i, k, e, c, n in rows
        ],
        "counted_up_to": await counted_up_to(conn),
    }


async def plan_versus_actual(conn: AsyncConnection, province: str, scope: Scope) -> dict[str, Any]:
    if scope.year is None:
        raise RuleViolation("year", "cần chọn năm / a year is required", location="query")
    a, k = assignments.c, commitments.c
    planned = select(k.assignment_id).join(assignments, a.id == k.assignment_id)
    planned = planned.where(a.province == province, k.year == scope.year)
    counted = (  # only activities that name a commitment of the province's plans
        in_force(Scope(year=scope.year, as_of=scope.as_of))
        .where(
            activity_versions.c.assignment_id.in_(planned),
            _text(activity_versions.c.facts, "commitment_id").is_not(None),
        )
        .subquery("counted")
    )
    theirs = and_(
        counted.c.assignment_id == k.assignment_id,
        _text(counted.c.facts, "commitment_id") == k.id,
    )
    fulfilling = select(func.count()).select_from(counted).where(theirs).scalar_subquery()
    done_value = (
        select(func.coalesce(func.sum(counted.c.value_vnd), 0)).where(theirs).scalar_subquery()
    )
    same_unit = _text(counted.c.facts, "quantity", "unit") == _text(k.planned_quantity, "unit")
    done_amount = (
        select(func.sum(cast(_text(counted.c.facts, "quantity", "amount"), Numeric)))
        .where(theirs, same_unit)
        .scalar_subquery()
    )
    rows = await conn.execute(
        select(
            k.assignment_id,
            k.id,
            k.description,
            k.category,
            k.quarter,
            fulfilling,
            k.planned_value_vnd,
            k.planned_quantity,
            done_value,
            done_amount,
        )
        .join(assignments, a.id == k.assignment_id)
        .where(a.province == province, k.year == scope.year)
        .order_by(k.assignment_id, k.quarter.nulls_last(), k.id)
    )
    return {
        "province": province,
        "scope": _scope(scope),
        "commitments": [
            {
                "assignment_id": asg,
                "commitment_id": cid,
                "description": d,
                "category": cat,
                "quarter": q,
                "activities": n,
                "fulfilled": n > 0,
                "planned_value_vnd": planned_value,
                "actual_value_vnd": int(done),
                "planned_quantity": planned,
                "actual_quantity": (
                    {
                        "amount": format((amount or Decimal(0)).normalize(), "f"),
                        "unit": planned["unit"],
                    }
                    if planned
                    else None
                ),
            }
            for asg, cid, d, cat, q, n, planned_value, planned, done, amount in rows
        ],
        "counted_up_to": await counted_up_to(conn),
    }


async def counted_up_to(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Where the projections stand on each topic partition: reproducible figures."""
    p = consumer_positions.c
    rows = await conn.execute(
        select(p.topic, p.partition, p.next_offset, p.event_time).order_by(p.topic, p.partition)
    )
    return [
        {"topic": t, "partition": n, "next_offset": o, "last_event_time": e} for t, n, o, e in rows
    ]


def _scope(scope: Scope) -> dict[str, Any]:
    return {
        "programme_id": scope.programme_id,
        "year": scope.year,
        "quarter": scope.quarter,
        "as_of": scope.as_of,
        "edition": "mapped to 2025" if scope.mapped else "as recorded",
        **({"provinces": sorted(scope.provinces)} if scope.provinces is not None else {}),
    }
