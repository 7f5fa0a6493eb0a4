"""Who may read what in the registry; its writes are checked by the command handlers
(`Principal.require_manage`). The read rules live here, and only here:

- a province's sponsor units and programmes: who reads the province (national viewer,
  its coordinator or auditor, through the 2025 lineage), and its units' clerks;
- a sponsor unit and the communes it helps: who reads its province, and its own clerk;
- an assignment, its history and its leads: who reads its province, and the clerks of
  its member units (ever);
- a programme's list of assignments: who reads the province;
- who helps a commune: only the assignments the caller may read;
- administrative units, villages and classifications: public facts, any signed-in caller.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.tables import assignment_members, assignments
from shared.auth import Principal, forbidden, forbidden_read
from shared.errors import NotFound


def require_read_province(caller: Principal, province: str) -> None:
    """Lists of the province's sponsor units and programmes."""
    if not (caller.reads(province) or caller.clerk_units(province)):
        raise forbidden_read(province)


def require_read_unit(caller: Principal, unit: dict[str, Any]) -> None:
    province = unit["province"]
    if not (caller.reads(province) or unit["id"] in caller.clerk_units(province)):
        raise forbidden(
            f"read:sponsor-unit:{unit['id']}",
            f"xem đơn vị {unit['id']} của tỉnh {province}",
            f"read sponsor unit {unit['id']} of province {province}",
        )


def require_read_programme(caller: Principal, programme: dict[str, Any]) -> None:
    require_read_province(caller, programme["province"])


def assignments_in_view(caller: Principal, province: str) -> frozenset[str] | None:
    """Whose assignments of `province` the caller may list: None for all of them; a clerk,
    only those of its own units."""
    if caller.reads(province):
        return None
    if units := caller.clerk_units(province):
        return units
    raise forbidden_read(province)


def require_read_assignments_of(caller: Principal, programme: dict[str, Any]) -> None:
    if not caller.reads(programme["province"]):
        raise forbidden_read(programme["province"])


async def require_read_assignment(
    conn: AsyncConnection, caller: Principal, assignment_id: str
) -> None:
    province = await conn.scalar(
        select(assignments.c.province).where(assignments.c.id == assignment_id)
    )
    if province is None:
        raise NotFound(f"Không có phân công {assignment_id} / no assignment {assignment_id}")
    m = assignment_members.c
    units = await conn.scalars(select(m.sponsor_unit_id).where(m.assignment_id == assignment_id))
    if not caller.reads_assignment(province, units):
        raise forbidden(
            f"read:assignment:{assignment_id}",
            f"xem phân công {assignment_id} của tỉnh {province}",
            f"read assignment {assignment_id} of province {province}",
        )


def readable_helpers(caller: Principal, helpers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assignments helping a commune that the caller may read."""
    return [
        entry
        for entry in helpers
        if caller.reads_assignment(entry["province"], (u["id"] for u in entry["sponsor_units"]))
    ]
