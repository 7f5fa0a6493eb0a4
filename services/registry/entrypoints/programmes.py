"""HTTP routes for sponsor units and programmes."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Response

from services.registry.domain.programmes import Period, Programme
from services.registry.domain.sponsor_units import SponsorUnit
from services.registry.entrypoints.answers import (
    ProgrammeAssignmentOut,
    ProgrammeOut,
    SponsorUnitOut,
    UnitTargetOut,
)
from services.registry.entrypoints.dependencies import Amend, Write
from services.registry.entrypoints.schemas import Code, LegalBasisIn, ProgrammeIn, SponsorUnitIn
from services.registry.service_layer import access, commands, queries
from shared.service import Caller, Connection, etag

router = APIRouter(tags=["Đơn vị kết nghĩa, chương trình (sponsor units, programmes)"])


@router.post("/sponsor-units", status_code=201, response_model=SponsorUnitOut)
async def register_sponsor_unit(body: SponsorUnitIn, write: Write) -> dict[str, Any]:
    unit = SponsorUnit(body.id, body.province, body.name, body.kind, body.parent_id)
    await commands.register_sponsor_unit(write.uow, write.caller, unit)
    return await queries.find_sponsor_unit(write.conn, unit.id)


@router.get("/sponsor-units", response_model=list[SponsorUnitOut])
async def list_sponsor_units(
    province: Code, conn: Connection, caller: Caller
) -> list[dict[str, Any]]:
    access.require_read_province(caller, province)
    return await queries.list_sponsor_units(conn, province)


@router.get("/sponsor-units/{unit_id}", response_model=SponsorUnitOut)
async def get_sponsor_unit(unit_id: str, conn: Connection, caller: Caller) -> dict[str, Any]:
    unit = await queries.find_sponsor_unit(conn, unit_id)
    access.require_read_unit(caller, unit)
    return unit


@router.get("/sponsor-units/{unit_id}/targets", response_model=list[UnitTargetOut])
async def targets_of_unit(
    unit_id: str, conn: Connection, caller: Caller, on: date | None = None
) -> list[dict[str, Any]]:
    """Đơn vị giúp đỡ những xã nào: the targets the unit helps (on a day, if given)."""
    access.require_read_unit(caller, await queries.find_sponsor_unit(conn, unit_id))
    return await queries.targets_of_unit(conn, unit_id, on)


@router.post("/programmes", status_code=201, response_model=ProgrammeOut)
async def create_programme(body: ProgrammeIn, write: Write) -> dict[str, Any]:
    programme = Programme(
        body.id,
        body.province,
        body.name,
        Period(body.start_year, body.end_year),
        body.scope,
        tuple(basis.to_domain() for basis in body.legal_bases),
    )
    await commands.create_programme(write.uow, write.caller, programme)
    return await _programme(write.conn, programme.id, write.response)


@router.get("/programmes", response_model=list[ProgrammeOut])
async def list_programmes(province: Code, conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    access.require_read_province(caller, province)
    return await queries.list_programmes(conn, province)


@router.get("/programmes/{programme_id}", response_model=ProgrammeOut)
async def get_programme(
    programme_id: str, conn: Connection, caller: Caller, response: Response
) -> dict[str, Any]:
    programme = await _programme(conn, programme_id, response)
    access.require_read_programme(caller, programme)
    return programme


@router.post("/programmes/{programme_id}/legal-bases", response_model=ProgrammeOut)
async def add_legal_basis(programme_id: str, body: LegalBasisIn, amend: Amend) -> dict[str, Any]:
    """Thêm văn bản (sửa đổi, bổ sung): a later decision amends the programme."""
    basis = body.to_domain()
    await commands.add_legal_basis(amend.uow, amend.caller, programme_id, basis, amend.expected)
    return await _programme(amend.conn, programme_id, amend.response)


@router.get("/programmes/{programme_id}/assignments", response_model=list[ProgrammeAssignmentOut])
async def programme_assignments(
    programme_id: str, conn: Connection, caller: Caller
) -> list[dict[str, Any]]:
    access.require_read_assignments_of(caller, await queries.find_programme(conn, programme_id))
    return await queries.list_assignments(conn, programme_id)


async def _programme(conn: Connection, programme_id: str, response: Response) -> dict[str, Any]:
    """The programme, with its version as the `ETag`."""
    programme = await queries.find_programme(conn, programme_id)
    response.headers["ETag"] = etag(programme["version"])
    return programme
