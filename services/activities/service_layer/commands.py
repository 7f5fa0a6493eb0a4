"""The activities service's commands: check against what the registry said and the locked
periods, let the domain decide, save what it decided, each in one unit of work
(`service_layer.unit_of_work`: `async with uow:` is the transaction).

A record or correction holds its province's lock stream in shared mode for the rest of
its transaction, and a lock or unlock holds it exclusively, so that no activity slips
into a period locked at the same moment.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.activities.domain.activities import Activity, Facts
from services.activities.domain.assignments import KnownAssignment
from services.activities.domain.locks import Lock, PeriodLocked, ProvinceLocks, locks_stream
from services.activities.domain.plans import Commitment, Plan, plan_stream
from services.activities.service_layer import access
from services.activities.service_layer.unit_of_work import ActivitiesUnit, Reads
from shared.auth import Forbidden, Principal
from shared.errors import AlreadyExists, NotFound, RuleViolation
from shared.eventstore import check_expected


@dataclass(frozen=True)
class NewActivity:
    id: str
    facts: Facts


# -- what the registry said -----------------------------------------------------------------
def unknown_assignment(assignment_id: str) -> RuleViolation:
    return RuleViolation(
        "assignment_id",
        f"chưa nhận được phân công {assignment_id} từ sổ đăng ký (registry); nếu vừa tạo, "
        "hãy thử lại sau ít giây / this service has not (yet) heard of the assignment "
        "from the registry's events",
    )


# -- activities -----------------------------------------------------------------------------
@dataclass
class Checked:
    """What `check_activities` found: the problem of each refused item, by its index (a
    `RuleViolation`, 422, or `PeriodLocked`, 409), and the province of each assignment."""

    problems: dict[int, Exception]
    provinces: dict[str, str]


async def check_activities(
    reads: Reads, items: Sequence[NewActivity], caller: Principal
) -> Checked:
    """Check items against the caller's scope, what the registry said, locks and plans.
    Takes the provinces' lock streams in shared mode for the rest of the transaction."""
    assignments = await reads.known_assignments({item.facts.assignment_id for item in items})
    provinces = {a.province for a in assignments.values()}
    await reads.hold_locks(provinces, exclusive=False)
    locked = await reads.locks_in_force(provinces)
    promised = await reads.commitments(
        {
            (i.facts.assignment_id, i.facts.occurred_on.year, i.facts.commitment_id)
            for i in items
            if i.facts.commitment_id
        }
    )
    names = await reads.unit_names({u for item in items for u in item.facts.sponsor_unit_ids})
    places = {(i.facts.commune_edition, i.facts.commune_code) for i in items}
    communes = await reads.commune_names(places.union(*(a.communes for a in assignments.values())))
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


async def record_activity(uow: ActivitiesUnit, caller: Principal, item: NewActivity) -> Activity:
    async with uow:
        if await uow.activities.taken([item.id]):
            raise AlreadyExists(f"hoạt động {item.id} đã có / activity {item.id} already exists")
        checked = await check_activities(uow.reads, [item], caller)
        if checked.problems:
            raise checked.problems[0]
        [recorded] = await record_checked(uow, [item], checked.provinces)
    return recorded


async def record_checked(
    uow: ActivitiesUnit, items: Sequence[NewActivity], provinces: dict[str, str]
) -> list[Activity]:
    """Record items `check_activities` passed, in the unit's transaction, in one append
    (an import's chunk: one COPY)."""
    recorded = [
        Activity.record(item.id, provinces[item.facts.assignment_id], item.facts) for item in items
    ]
    await uow.activities.save(*recorded)
    return recorded


async def correct_activity(
    uow: ActivitiesUnit,
    caller: Principal,
    activity_id: str,
    expected: int | None,
    facts: Facts,
    reason: str,
) -> Activity:
    async with uow:
        activity = await _load(uow, caller, activity_id, expected)
        await _check_open(uow.reads, activity, facts.occurred_on)
        checked = await check_activities(uow.reads, [NewActivity(activity_id, facts)], caller)
        if checked.problems:
            raise checked.problems[0]
        activity.correct(facts, reason)
        await uow.activities.save(activity)
    return activity


async def void_activity(
    uow: ActivitiesUnit, caller: Principal, activity_id: str, expected: int | None, reason: str
) -> Activity:
    async with uow:
        activity = await _load(uow, caller, activity_id, expected)
        await _check_open(uow.reads, activity, activity.facts.occurred_on)
        activity.void(reason)
        await uow.activities.save(activity)
    return activity


async def _require_record(reads: Reads, caller: Principal, activity: Activity) -> None:
    """A correction or void is made by who may record the activity as it stands."""
    assignment_id = activity.facts.assignment_id
    assignment = (await reads.known_assignments({assignment_id})).get(assignment_id)
    if assignment is None:
        raise unknown_assignment(assignment_id)
    access.require_record(caller, assignment, activity.facts)


async def _check_open(reads: Reads, activity: Activity, new_day: date) -> None:
    """Neither the day the activity is recorded on nor the day it moves to is locked."""
    await reads.hold_locks({activity.province}, exclusive=False)
    province = (await reads.locks_in_force({activity.province}))[activity.province]
    commune = (activity.facts.commune_edition, activity.facts.commune_code)
    for day in (activity.facts.occurred_on, new_day):
        province.check(commune, day)


async def _load(
    uow: ActivitiesUnit, caller: Principal, activity_id: str, expected: int | None
) -> Activity:
    """The activity from its events, if the caller may record it as it stands; then the
    version check (so that a 409 tells nothing to someone who may not change it)."""
    activity = await uow.activities.load(activity_id)
    if activity is None:
        raise NotFound(f"Không có hoạt động {activity_id} / no activity {activity_id}")
    await _require_record(uow.reads, caller, activity)
    check_expected(activity_id, activity.version, expected)
    return activity


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
async def lock_period(uow: ActivitiesUnit, caller: Principal, province: str, lock: Lock) -> None:
    access.require_manage(caller, province)
    async with uow:
        locks = await _province_locks(uow, province)
        locks.lock(lock)
        await uow.locks.save(locks)


async def unlock_period(
    uow: ActivitiesUnit, caller: Principal, province: str, lock_id: str, reason: str, by: str
) -> None:
    access.require_manage(caller, province)
    async with uow:
        locks = await _province_locks(uow, province)
        locks.unlock(lock_id, reason, by)
        await uow.locks.save(locks)


async def _province_locks(uow: ActivitiesUnit, province: str) -> ProvinceLocks:
    """The province's locks from their stream, holding it exclusively for the rest of the
    transaction (a record waits, and then sees the lock)."""
    await uow.reads.hold_locks({province}, exclusive=True)
    return await uow.locks.load(locks_stream(province)) or ProvinceLocks(province)


# -- plans ----------------------------------------------------------------------------------
async def _assignment_for_plan(
    reads: Reads, caller: Principal, assignment_id: str, year: int
) -> KnownAssignment:
    assignment = (await reads.known_assignments({assignment_id})).get(assignment_id)
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
    uow: ActivitiesUnit,
    caller: Principal,
    assignment_id: str,
    year: int,
    promised: list[Commitment],
) -> None:
    async with uow:
        assignment = await _assignment_for_plan(uow.reads, caller, assignment_id, year)
        if await uow.plans.taken([plan_stream(assignment_id, year)]):
            raise AlreadyExists(f"kế hoạch năm {year} đã có / the plan of {year} already exists")
        await uow.plans.save(Plan.create(assignment_id, year, assignment.province, promised))


async def add_commitment(
    uow: ActivitiesUnit,
    caller: Principal,
    assignment_id: str,
    year: int,
    expected: int | None,
    promise: Commitment,
) -> None:
    async with uow:
        await _assignment_for_plan(uow.reads, caller, assignment_id, year)
        plan = await uow.plans.load(plan_stream(assignment_id, year))
        if plan is None:
            raise NotFound(f"Chưa có kế hoạch năm {year} / no plan for {year}")
        check_expected(plan.stream_id, plan.version, expected)
        plan.add(promise)
        await uow.plans.save(plan)
