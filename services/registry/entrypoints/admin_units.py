"""HTTP routes for administrative units and the 2025 lineage of communes."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.registry.adapters import admin_units
from services.registry.domain.admin_units import Edition, Level
from services.registry.entrypoints.answers import AdminUnitOut, LineageOut, PredecessorsOut
from shared.service import Connection

router = APIRouter(tags=["Đơn vị hành chính (administrative units)"])


@router.get("/admin-units/{edition}/{level}/{code}", response_model=AdminUnitOut)
async def get_unit(edition: Edition, level: Level, code: str, conn: Connection) -> Any:
    unit = await admin_units.find_unit(conn, edition, level, code)
    if unit is None:
        raise HTTPException(
            404,
            f"Không có đơn vị hành chính cấp {level} mã {code} (phiên bản {edition}) / "
            f"no {level} with code {code} in edition {edition}",
        )
    return unit


@router.get("/admin-units/{edition}/{level}/{code}/children", response_model=list[AdminUnitOut])
async def children(
    edition: Edition, level: Level, code: str, conn: Connection
) -> list[dict[str, Any]]:
    """Các đơn vị trực thuộc: a district's communes (before 2025), a province's districts
    (before 2025) or communes (from 2025)."""
    await get_unit(edition, level, code, conn)
    return await admin_units.children(conn, edition, level, code)


@router.get(
    f"/admin-units/{Edition.FROM_2025}/commune/{{code}}/predecessors",
    response_model=PredecessorsOut,
)
async def predecessors(code: str, conn: Connection) -> dict[str, Any]:
    """Xã 2025 được hình thành từ những xã nào: the pre-2025 communes that went into 2025
    commune `code`, wholly (`whole`) or in part (`part`)."""
    unit = await get_unit(Edition.FROM_2025, Level.COMMUNE, code, conn)
    return {"commune": unit, "predecessors": await admin_units.predecessors(conn, code)}


@router.get("/admin-units", response_model=list[AdminUnitOut])
async def search(
    conn: Connection,
    q: Annotated[str, Query(min_length=2, description="tên, có hoặc không dấu")],
    edition: Edition | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    return await admin_units.search_units(conn, q, edition, limit)


@router.get("/lineage/communes/{old_code}", response_model=LineageOut)
async def lineage(old_code: str, conn: Connection) -> dict[str, Any]:
    """What pre-2025 commune `old_code` became on 1 July 2025."""
    old = await admin_units.find_unit(conn, Edition.PRE_2025, Level.COMMUNE, old_code)
    if old is None:
        raise HTTPException(
            404,
            f"Không có xã mã {old_code} trước 01/7/2025 / no pre-2025 commune with code {old_code}",
        )
    successors = await admin_units.successors(conn, old_code)
    return {
        "old": old,
        "split": any(s["share"] == "part" for s in successors),
        "successors": successors,
    }
