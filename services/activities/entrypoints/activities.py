"""HTTP routes for activities, plans and locked periods.

Writes take an `Idempotency-Key` (a retry records nothing new) and, for an existing
activity or plan, `If-Match` with the version last read (a stale one is a 409).
"""

from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.entrypoints.answers import (
    ActivityOut,
    ActivityWithHistoryOut,
    CatalogueOut,
    LockOut,
    PlanListed,
    PlanOut,
)
from services.activities.entrypoints.dependencies import Write
from services.activities.entrypoints.schemas import (
    ActivityIn,
    CommitmentIn,
    CorrectionIn,
    FactsIn,
    LockIn,
    PlanIn,
    UnlockIn,
    VoidIn,
)
from services.activities.service_layer import access, commands, naming, queries
from services.activities.service_layer.commands import NewActivity
from shared import catalogue
from shared.editions import PRE_2025
from shared.errors import RuleViolation
from shared.service import Caller, Connection, IfMatch, etag

router = APIRouter(tags=["Hoạt động hỗ trợ (activities)"])


@router.get("/catalogue", response_model=CatalogueOut)
async def catalogue_lists() -> dict[str, Any]:
    """Danh mục: categories, units of quantity, beneficiary kinds and groups, funding."""
    return {
        "categories": dict(catalogue.CATEGORIES),
        "quantity_units": list(catalogue.QUANTITY_UNITS),
        "beneficiary_kinds": dict(catalogue.BENEFICIARY_KINDS),
        "beneficiary_groups": dict(catalogue.BENEFICIARY_GROUPS),
        "funding_sources": dict(catalogue.FUNDING_SOURCES),
    }


@router.post(
    "/activities", status_code=201, response_model=ActivityOut, response_model_exclude_unset=True
)
async def record(body: ActivityIn, write: Write) -> JSONResponse:
    async def run() -> tuple[int, Any]:
        item = NewActivity(body.id, (await by_names(write.conn, body)).to_domain())
        recorded = await commands.record_activity(write.uow, write.caller, item)
        return 201, queries.describe(recorded)

    return await write.once(run)


Body = TypeVar("Body", bound=FactsIn)


async def by_names(conn: AsyncConnection, body: Body) -> Body:
    """The body with the unit named by `sponsor_unit` and the assignment found from the
    commune, the day and the units, where the caller left their ids out."""
    if body.sponsor_unit is not None:
        if body.sponsor_unit_id is not None or body.contributions is not None:
            raise RuleViolation(
                "sponsor_unit",
                "ghi tên đơn vị hoặc mã đơn vị, không cả hai / give the unit's name or its id",
            )
        unit_id = await naming.unit_named(conn, body.sponsor_unit)
        body = body.model_copy(update={"sponsor_unit_id": unit_id, "sponsor_unit": None})
    if body.assignment_id is None:
        units = (
            [c.sponsor_unit_id for c in body.contributions]
            if body.contributions is not None
            else [body.sponsor_unit_id]
            if body.sponsor_unit_id
            else []
        )
        commune = (body.commune.edition, body.commune.code)
        found = await naming.assignment_for(conn, commune, body.occurred_on, units)
        body = body.model_copy(update={"assignment_id": found})
    return body


@router.get("/activities", response_model=list[ActivityOut], response_model_exclude_unset=True)
async def list_activities(
    conn: Connection,
    caller: Caller,
    province: str | None = None,
    assignment_id: str | None = None,
    commune_edition: str | None = None,
    commune_code: str | None = None,
    category: str | None = None,
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    include_voided: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    commune = (commune_edition or PRE_2025, commune_code) if commune_code else None
    await queries.require_list(conn, caller, province, assignment_id)
    return await queries.list_activities(
        conn,
        province=province,
        assignment_id=assignment_id,
        commune=commune,
        category=category,
        since=since,
        until=until,
        include_voided=include_voided,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/activities/{activity_id}",
    response_model=ActivityWithHistoryOut,
    response_model_exclude_unset=True,
)
async def get_activity(
    activity_id: str, conn: Connection, caller: Caller, response: Response
) -> dict[str, Any]:
    """The activity as it stands, with its whole history (recording, corrections, void),
    each change with who made it."""
    found = await queries.readable_activity(conn, caller, activity_id)
    response.headers["ETag"] = etag(found["version"])
    return {**found, "history": await queries.history(conn, activity_id)}


@router.post(
    "/activities/{activity_id}/corrections",
    response_model=ActivityOut,
    response_model_exclude_unset=True,
)
async def correct(
    activity_id: str, body: CorrectionIn, write: Write, expected: IfMatch
) -> JSONResponse:
    async def run() -> tuple[int, Any]:
        facts = (await by_names(write.conn, body)).to_domain()
        corrected = await commands.correct_activity(
            write.uow, write.caller, activity_id, expected, facts, body.reason
        )
        return 200, queries.describe(corrected)

    return await write.once(run)


@router.post(
    "/activities/{activity_id}/void", response_model=ActivityOut, response_model_exclude_unset=True
)
async def void(activity_id: str, body: VoidIn, write: Write, expected: IfMatch) -> JSONResponse:
    async def run() -> tuple[int, Any]:
        voided = await commands.void_activity(
            write.uow, write.caller, activity_id, expected, body.reason
        )
        return 200, queries.describe(voided)

    return await write.once(run)


@router.post("/assignments/{assignment_id}/plans", status_code=201, response_model=PlanOut)
async def create_plan(assignment_id: str, body: PlanIn, write: Write) -> JSONResponse:
    """Kế hoạch năm: the year's plan of the assignment, with its commitments."""

    async def run() -> tuple[int, Any]:
        promised = [c.to_domain() for c in body.commitments]
        await commands.create_plan(write.uow, write.caller, assignment_id, body.year, promised)
        return 201, await queries.plan(write.conn, assignment_id, body.year)

    return await write.once(run)


@router.post(
    "/assignments/{assignment_id}/plans/{year}/commitments", status_code=201, response_model=PlanOut
)
async def add_commitment(
    assignment_id: str, year: int, body: CommitmentIn, write: Write, expected: IfMatch
) -> JSONResponse:
    async def run() -> tuple[int, Any]:
        promise = body.to_domain()
        await commands.add_commitment(
            write.uow, write.caller, assignment_id, year, expected, promise
        )
        return 201, await queries.plan(write.conn, assignment_id, year)

    return await write.once(run)


@router.get("/assignments/{assignment_id}/plans", response_model=list[PlanListed])
async def plans(assignment_id: str, conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    """Các kế hoạch năm của phân công: each year's plan, with its commitments counted."""
    await queries.readable_assignment(conn, caller, assignment_id)
    return await queries.plans_of(conn, assignment_id)


@router.get("/assignments/{assignment_id}/plans/{year}", response_model=PlanOut)
async def plan_versus_actual(
    assignment_id: str, year: int, conn: Connection, caller: Caller
) -> dict[str, Any]:
    """Kế hoạch và thực hiện: each commitment and the activities that fulfil it."""
    await queries.readable_assignment(conn, caller, assignment_id)
    return await queries.plan(conn, assignment_id, year)


@router.post("/provinces/{province}/locks", status_code=201, response_model=LockOut)
async def lock(province: str, body: LockIn, write: Write) -> JSONResponse:
    """Khóa kỳ báo cáo: after this, activities dated inside are refused until unlocked.
    `by` defaults to the signed-in coordinator's name (the event names them anyway)."""

    async def run() -> tuple[int, Any]:
        locked = body.to_domain(write.caller.name)
        await commands.lock_period(write.uow, write.caller, province, locked)
        return 201, await queries.find_lock(write.conn, province, body.id)

    return await write.once(run)


@router.post("/provinces/{province}/locks/{lock_id}/unlock", response_model=LockOut)
async def unlock(province: str, lock_id: str, body: UnlockIn, write: Write) -> JSONResponse:
    async def run() -> tuple[int, Any]:
        by = body.by or write.caller.name
        await commands.unlock_period(write.uow, write.caller, province, lock_id, body.reason, by)
        return 200, await queries.find_lock(write.conn, province, lock_id)

    return await write.once(run)


@router.get("/provinces/{province}/locks", response_model=list[LockOut])
async def locks(province: str, conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    """Every lock of the province: in force (`active`) or unlocked, with who and why."""
    access.require_province_records(caller, province)
    return await queries.list_locks(conn, province)
