"""The activities service's commands: check against what the registry said and the locked
periods, let the domain decide, record its events (`shared.eventstore.Recorder`).

A record or correction holds its province's lock stream in shared mode for the rest of
its transaction, and a lock or unlock holds it exclusively, so that no activity slips
into a period locked at the same moment.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import (
    activities,
    commitments,
    known_assignment_communes,
    known_assignments,
    known_communes,
    known_members,
    known_units,
    locks,
)
from services.activities.domain.activities import Activity, Facts, recorded_key
from services.activities.domain.assignments import KnownAssignment, Membership
from services.activities.domain.locks import Lock, PeriodLocked, ProvinceLocks
from services.activities.domain.plans import Commitment, Plan, plan_stream
from services.activities.service_layer import access
from shared import eventstore
from shared.auth import Forbidden, Principal
from shared.errors import AlreadyExists, NotFound, RuleViolation
from shared.events import Event
from shared.eventstore import Recorder, check_expected


@dataclass(frozen=True)
class NewActivity:
    id: str
    facts: Facts


# -- what the registry said -----------------------------------------------------------------
async def known(conn: AsyncConnection, ids: set[str]) -> dict[str, KnownAssignment]:
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
    rows = await conn.execute(
        select(a.id, a.province, a.start_year, a.end_year, a.ended_on, communes, members).where(
            a.id.in_(ids)
        )
    )
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


def unknown_assignment(assignment_id: str) -> RuleViolation:
    return RuleViolation(
        "assignment_id",
        f"chưa nhận được phân công {assignment_id} từ sổ đăng ký (registry); nếu vừa tạo, "
        "hãy thử lại sau ít giây / this service has not (yet) heard of the assignment "
        "from the registry's events",
    )


# -- locked periods -------------------------------------------------------------------------
async def _hold_locks(conn: AsyncConnection, provinces: set[str], exclusive: bool) -> None:
    take = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    for province in sorted(provinces):
        await conn.execute(select(take(func.hashtext(f"locks:{province}"))))


async def province_locks(conn: AsyncConnection, provinces: set[str]) -> dict[str, ProvinceLocks]:
    """The locks in force (the read model; `_change_locks` replays the stream instead)."""
    found = {province: ProvinceLocks(province) for province in provinces}
    in_force = select(locks).where(locks.c.province.in_(provinces), locks.c.unlocked_at.is_(None))
    for row in await conn.execute(in_force):
        commune = (row.commune_edition, row.commune_code) if row.commune_code else None
        found[row.province].active[row.id] = Lock(
            row.id, row.year, row.quarter, commune, row.reason, row.locked_by
        )
    return found


# -- activities -----------------------------------------------------------------------------
@dataclass
class Checked:
    """What `check_activities` found: the problem of each refused item, by its index (a
    `RuleViolation`, 422, or `PeriodLocked`, 409), and the province of each assignment."""

    problems: dict[int, Exception]
    provinces: dict[str, str]


async def check_activities(
    conn: AsyncConnection, items: Sequence[NewActivity], caller: Principal
) -> Checked:
    """Check items against the caller's scope, what the registry said, locks and plans.
    Takes the provinces' lock streams in shared mode for the rest of the transaction."""
    assignments = await known(conn, {item.facts.assignment_id for item in items})
    provinces = {a.province for a in assignments.values()}
    await _hold_locks(conn, provinces, exclusive=False)
    locked = await province_locks(conn, provinces)
    promised = await _commitments(conn, items)
    names = await unit_names(conn, {u for item in items for u in item.facts.sponsor_unit_ids})
    places = {(i.facts.commune_edition, i.facts.commune_code) for i in items}
    communes = await commune_names(conn, places.union(*(a.communes for a in assignments.values())))
    problems: dict[int, Exception] = {}
    for index, item in enumerate(items):
        facts = item.facts
        assignment = assignments.get(facts.assignment_id)
        try:
            if assignment is None:
                raise unknown_assignment(facts.assignment_id)
            access.require_record(caller, assignment, facts)
            assignment.check(facts, names, communes)
            commune = (facts.commune_edition, facts.commune_code)
            locked[assignment.province].check(commune, facts.occurred_on)
            _check_commitment(facts, promised)
        except (Forbidden, RuleViolation, PeriodLocked) as problem:
            problems[index] = problem
    return Checked(problems, {a.id: a.province for a in assignments.values()})


async def unit_names(conn: AsyncConnection, ids: set[str]) -> dict[str, str]:
    """Sponsor-unit id → name, as the registry said, for the reasons of refusals."""
    if not ids:
        return {}
    rows = await conn.execute(
        select(known_units.c.id, known_units.c.name).where(known_units.c.id.in_(sorted(ids)))
    )
    return {unit_id: name for unit_id, name in rows}


async def commune_names(
    conn: AsyncConnection, places: set[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(edition, code) → the commune's name, from the registry's lineage, for reasons."""
    if not places:
        return {}
    c = known_communes.c
    rows = await conn.execute(
        select(c.edition, c.code, c.name).where(tuple_(c.edition, c.code).in_(sorted(places)))
    )
    return {(edition, code): name for edition, code, name in rows}


async def existing(conn: AsyncConnection, ids: Sequence[str]) -> set[str]:
    found = await conn.execute(select(activities.c.id).where(activities.c.id.in_(ids)))
    return set(found.scalars())


async def record_activity(recorder: Recorder, caller: Principal, item: NewActivity) -> Activity:
    if await existing(recorder.conn, [item.id]):
        raise AlreadyExists(f"hoạt động {item.id} đã có / activity {item.id} already exists")
    checked = await check_activities(recorder.conn, [item], caller)
    if checked.problems:
        raise checked.problems[0]
    [recorded] = await record_checked(recorder, [item], checked.provinces)
    return recorded


async def record_checked(
    recorder: Recorder, items: Sequence[NewActivity], provinces: dict[str, str]
) -> list[Activity]:
    """Record items `check_activities` passed, in this transaction, a province at a time."""
    by_province: dict[str, list[NewActivity]] = defaultdict(list)
    for item in items:
        by_province[provinces[item.facts.assignment_id]].append(item)
    recorded: list[Activity] = []
    for province, mine in by_province.items():
        decided = {item.id: Activity.record(item.id, province, item.facts) for item in mine}
        await recorder.record_many(
            [(activity_id, 0, activity.pending) for activity_id, activity in decided.items()],
            province=province,
            partition_key=recorded_key,
        )
        recorded += decided.values()
    return recorded


async def correct_activity(
    recorder: Recorder,
    caller: Principal,
    activity_id: str,
    expected: int | None,
    facts: Facts,
    reason: str,
) -> Activity:
    activity, version = await _load(recorder.conn, caller, activity_id, expected)
    await _check_open(recorder.conn, activity, facts.occurred_on)
    checked = await check_activities(recorder.conn, [NewActivity(activity_id, facts)], caller)
    if checked.problems:
        raise checked.problems[0]
    activity.correct(facts, reason)
    await _record(recorder, activity, version)
    return activity


async def void_activity(
    recorder: Recorder, caller: Principal, activity_id: str, expected: int | None, reason: str
) -> Activity:
    activity, version = await _load(recorder.conn, caller, activity_id, expected)
    await _check_open(recorder.conn, activity, activity.facts.occurred_on)
    activity.void(reason)
    await _record(recorder, activity, version)
    return activity


async def _require_record(conn: AsyncConnection, caller: Principal, activity: Activity) -> None:
    """A correction or void is made by who may record the activity as it stands."""
    assignment_id = activity.facts.assignment_id
    assignment = (await known(conn, {assignment_id})).get(assignment_id)
    if assignment is None:
        raise unknown_assignment(assignment_id)
    access.require_record(caller, assignment, activity.facts)


async def _check_open(conn: AsyncConnection, activity: Activity, new_day: date) -> None:
    """Neither the day the activity is recorded on nor the day it moves to is locked."""
    await _hold_locks(conn, {activity.province}, exclusive=False)
    province = (await province_locks(conn, {activity.province}))[activity.province]
    commune = (activity.facts.commune_edition, activity.facts.commune_code)
    for day in (activity.facts.occurred_on, new_day):
        province.check(commune, day)


async def _load(
    conn: AsyncConnection, caller: Principal, activity_id: str, expected: int | None
) -> tuple[Activity, int]:
    """The activity from its events, if the caller may record it as it stands; then the
    version check (so that a 409 tells nothing to someone who may not change it)."""
    history = await eventstore.load_stream(conn, activity_id)
    if not history:
        raise NotFound(f"Không có hoạt động {activity_id} / no activity {activity_id}")
    activity = Activity.from_events([Event(e.type, e.data) for e in history])
    await _require_record(conn, caller, activity)
    return activity, check_expected(activity_id, activity.version, expected)


async def _record(recorder: Recorder, activity: Activity, version: int) -> None:
    await recorder.record(
        activity.id,
        version,
        activity.pending,
        province=activity.province,
        partition_key=activity.facts.partition_key,
    )
    activity.pending = []


async def _commitments(
    conn: AsyncConnection, items: Sequence[NewActivity]
) -> set[tuple[str, int, str]]:
    wanted = {
        (i.facts.assignment_id, i.facts.occurred_on.year, i.facts.commitment_id)
        for i in items
        if i.facts.commitment_id
    }
    if not wanted:
        return set()
    c = commitments.c
    found = await conn.execute(
        select(c.assignment_id, c.year, c.id).where(
            tuple_(c.assignment_id, c.year, c.id).in_(wanted)
        )
    )
    return {(row.assignment_id, row.year, row.id) for row in found}


def _check_commitment(facts: Facts, promised: set[tuple[str, int, str]]) -> None:
    if facts.commitment_id is None:
        return
    if (facts.assignment_id, facts.occurred_on.year, facts.commitment_id) not in promised:
        raise RuleViolation(
            "commitment_id",
            f"kế hoạch năm {facts.occurred_on.year} của phân công không có cam kết "
            f"{facts.commitment_id} / no such commitment in that year's plan",
        )


# -- locks ----------------------------------------------------------------------------------
def _locks_stream(province: str) -> str:
    return f"locks:{province}"


async def lock_period(recorder: Recorder, caller: Principal, province: str, lock: Lock) -> None:
    access.require_manage(caller, province)
    await _change_locks(recorder, province, lambda state: state.lock(lock))


async def unlock_period(
    recorder: Recorder, caller: Principal, province: str, lock_id: str, reason: str, by: str
) -> None:
    access.require_manage(caller, province)
    await _change_locks(recorder, province, lambda state: state.unlock(lock_id, reason, by))


async def _change_locks(
    recorder: Recorder, province: str, change: Callable[[ProvinceLocks], None]
) -> None:
    """Load the province's locks from their stream, holding it exclusively, and record
    what `change` decides."""
    await _hold_locks(recorder.conn, {province}, exclusive=True)
    state = ProvinceLocks(province)
    for event in await eventstore.load_stream(recorder.conn, _locks_stream(province)):
        state.apply(Event(event.type, event.data))
    version = state.version
    change(state)
    await recorder.record(
        _locks_stream(province),
        version,
        state.pending,
        province=province,
        partition_key=f"province:{province}",
    )


# -- plans ----------------------------------------------------------------------------------
async def _assignment_for_plan(
    conn: AsyncConnection, caller: Principal, assignment_id: str, year: int
) -> KnownAssignment:
    assignment = (await known(conn, {assignment_id})).get(assignment_id)
    if assignment is None:
        raise unknown_assignment(assignment_id)
    access.require_manage(caller, assignment.province)
    if not assignment.start_year <= year <= assignment.end_year:
        raise RuleViolation(
            "year",
            f"năm {year} ngoài giai đoạn {assignment.start_year}-{assignment.end_year} / "
            "outside the programme period",
        )
    return assignment


async def create_plan(
    recorder: Recorder,
    caller: Principal,
    assignment_id: str,
    year: int,
    promised: list[Commitment],
) -> None:
    assignment = await _assignment_for_plan(recorder.conn, caller, assignment_id, year)
    stream = plan_stream(assignment_id, year)
    if await eventstore.stream_version(recorder.conn, stream):
        raise AlreadyExists(f"kế hoạch năm {year} đã có / the plan of {year} already exists")
    plan = Plan.create(assignment_id, year, assignment.province, promised)
    await recorder.record(
        stream,
        0,
        plan.pending,
        province=assignment.province,
        partition_key=f"assignment:{assignment_id}",
    )


async def add_commitment(
    recorder: Recorder,
    caller: Principal,
    assignment_id: str,
    year: int,
    expected: int | None,
    promise: Commitment,
) -> None:
    assignment = await _assignment_for_plan(recorder.conn, caller, assignment_id, year)
    history = await eventstore.load_stream(recorder.conn, plan_stream(assignment_id, year))
    if not history:
        raise NotFound(f"Chưa có kế hoạch năm {year} / no plan for {year}")
    plan = Plan.from_events([Event(e.type, e.data) for e in history])
    version = check_expected(plan_stream(assignment_id, year), plan.version, expected)
    plan.add(promise)
    await recorder.record(
        plan_stream(assignment_id, year),
        version,
        plan.pending,
        province=assignment.province,
        partition_key=f"assignment:{assignment_id}",
    )
