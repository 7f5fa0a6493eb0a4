"""HTTP routes for assignments: who helps which target, members, the yearly lead.

Every change answers with the assignment and its version as the `ETag`; send it back as
`If-Match` so that a change made on a stale view is refused (409) instead of applied.
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response

from services.registry.domain.assignments import Assignment
from services.registry.entrypoints.answers import AssignmentEventOut, AssignmentOut, LeadOfYearOut
from services.registry.entrypoints.dependencies import Amend, AmendRequest, Write
from services.registry.entrypoints.schemas import (
    AssignmentIn,
    AssignmentListed,
    Code,
    ContinuationIn,
    EndIn,
    LeadIn,
    LeaveIn,
    MembershipIn,
    SuccessionIn,
    Year,
)
from services.registry.service_layer import access, commands, queries
from services.registry.service_layer.commands import NewAssignment
from shared import eventstore
from shared.service import Caller, Connection, etag

router = APIRouter(prefix="/assignments", tags=["Phân công giúp đỡ (assignments)"])


@router.post("", status_code=201, response_model=AssignmentOut)
async def create_assignment(body: AssignmentIn, write: Write) -> dict[str, Any]:
    new = NewAssignment(
        id=body.id,
        programme_id=body.programme_id,
        target=body.target.to_domain(),
        legal_basis=body.legal_basis.to_domain() if body.legal_basis else None,
        members=[member.to_domain() for member in body.members],
        leads=dict(body.leads),
    )
    await commands.create_assignment(write.uow, write.caller, new)
    return await _assignment(write.conn, new.id, write.response)


@router.get("", response_model=list[AssignmentListed])
async def province_assignments(
    province: Code, conn: Connection, caller: Caller
) -> list[dict[str, Any]]:
    """Các phân công của tỉnh: the province's assignments with the programme, the commune
    (as made and today) and unit names, and the lead of each year; a unit's clerk sees
    those of its unit."""
    units = access.assignments_in_view(caller, province)
    return await queries.province_assignments(conn, province, units)


@router.get("/{assignment_id}", response_model=AssignmentOut)
async def get_assignment(
    assignment_id: str, conn: Connection, caller: Caller, response: Response
) -> dict[str, Any]:
    await access.require_read_assignment(conn, caller, assignment_id)
    return await _assignment(conn, assignment_id, response)


@router.get("/{assignment_id}/history", response_model=list[AssignmentEventOut])
async def history(assignment_id: str, conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    """Every event of the assignment, oldest first, with who made it: nothing is
    overwritten."""
    await access.require_read_assignment(conn, caller, assignment_id)
    return [
        {
            "version": event.version,
            "type": event.type,
            "occurred_at": event.occurred_at,
            "event_id": event.event_id,
            "correlation_id": event.correlation_id,
            "actor": event.actor.as_dict() if event.actor else None,
            "data": event.data,
        }
        for event in await eventstore.load_stream(conn, assignment_id)
    ]


@router.get("/{assignment_id}/leads/{year}", response_model=LeadOfYearOut)
async def lead_of(
    assignment_id: str, year: Year, conn: Connection, caller: Caller
) -> dict[str, Any]:
    """Đơn vị chủ trì năm Y: the lead unit of the assignment in a year."""
    await access.require_read_assignment(conn, caller, assignment_id)
    return await queries.lead_of(conn, assignment_id, year)


@router.put("/{assignment_id}/leads/{year}", response_model=AssignmentOut)
async def assign_lead(assignment_id: str, year: Year, body: LeadIn, amend: Amend) -> dict[str, Any]:
    return await _change(
        amend,
        assignment_id,
        lambda assignment: assignment.assign_lead(year, body.sponsor_unit_id),
    )


@router.post("/{assignment_id}/members", response_model=AssignmentOut)
async def join(assignment_id: str, body: MembershipIn, amend: Amend) -> dict[str, Any]:
    membership = body.to_domain()
    await commands.join_assignment(
        amend.uow, amend.caller, assignment_id, amend.expected, membership
    )
    return await _assignment(amend.conn, assignment_id, amend.response)


@router.post("/{assignment_id}/members/{unit_id}/leave", response_model=AssignmentOut)
async def leave(assignment_id: str, unit_id: str, body: LeaveIn, amend: Amend) -> dict[str, Any]:
    return await _change(
        amend, assignment_id, lambda assignment: assignment.leave(unit_id, body.left_on)
    )


@router.post("/{assignment_id}/succession", response_model=AssignmentOut)
async def continue_on_successor(
    assignment_id: str, body: SuccessionIn, amend: Amend
) -> dict[str, Any]:
    """Tiếp tục trên xã mới sau sắp xếp 01/7/2025: the target commune was merged, the
    assignment continues on its successor and keeps the old commune in its history."""
    await commands.continue_on_successor(
        amend.uow, amend.caller, assignment_id, amend.expected, body.successor_code, body.reason
    )
    return await _assignment(amend.conn, assignment_id, amend.response)


@router.post("/{assignment_id}/continuation", status_code=201, response_model=AssignmentOut)
async def continue_district(
    assignment_id: str, body: ContinuationIn, amend: Amend
) -> dict[str, Any]:
    """Tiếp tục phân công giúp huyện trên các xã mới: districts ended on 30 June 2025; the
    district's assignment ends that day and one assignment per named 2025 commune begins
    on 1 July with the members of that day (`continued_by` lists them)."""
    await commands.continue_district(
        amend.uow, amend.caller, assignment_id, amend.expected, body.communes, body.reason
    )
    return await _assignment(amend.conn, assignment_id, amend.response)


@router.post("/{assignment_id}/end", response_model=AssignmentOut)
async def end(assignment_id: str, body: EndIn, amend: Amend) -> dict[str, Any]:
    return await _change(
        amend, assignment_id, lambda assignment: assignment.end(body.ended_on, body.reason)
    )


async def _change(
    amend: AmendRequest, assignment_id: str, decide: Callable[[Assignment], None]
) -> dict[str, Any]:
    """Load the assignment, let `decide` change it, save; answer it as it is now."""
    await commands.change_assignment(amend.uow, amend.caller, assignment_id, amend.expected, decide)
    return await _assignment(amend.conn, assignment_id, amend.response)


async def _assignment(conn: Connection, assignment_id: str, response: Response) -> dict[str, Any]:
    """The assignment, with its version as the `ETag`."""
    assignment = await queries.find_assignment(conn, assignment_id)
    response.headers["ETag"] = etag(assignment["version"])
    return assignment
