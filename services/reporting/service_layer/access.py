"""Who may read which report: the reporting service's scope rules, and only here.

- a province's summary, coverage and plans: who reads the province (the national viewer,
  its coordinator or auditor; a 2025 province's also reach its predecessors');
- a commune's report and the activities behind it: who reads the commune's province; or,
  limited to the rows of their own provinces, who reads the province of an assignment made
  for it (as made or after the reform) or is a clerk of one of that assignment's units;
- a sponsor unit's report: who reads the unit's province, and the unit's own clerk.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.adapters.tables import (
    assignment_targets,
    assignments,
    communes,
    members,
    sponsor_units,
)
from shared.auth import Principal, forbidden
from shared.errors import NotFound


def require_read_province(caller: Principal, province: str) -> None:
    caller.require_read(province)


async def readable_commune(
    conn: AsyncConnection, caller: Principal, edition: str, code: str
) -> frozenset[str] | None:
    """The provinces whose rows of the commune the caller may see: None for all of them
    (the caller reads the commune's province)."""
    province = await conn.scalar(
        select(communes.c.province_code).where(
            communes.c.edition == edition, communes.c.code == code
        )
    )
    if caller.reads_every_province or (province is not None and caller.reads(province)):
        return None
    a, t, m = assignments.c, assignment_targets.c, members.c
    helping = await conn.execute(
        select(a.province, m.sponsor_unit_id)
        .join(assignment_targets, t.assignment_id == a.id)
        .outerjoin(members, m.assignment_id == a.id)
        .where(t.edition == edition, t.code == code)
    )
    through = frozenset(
        assignment_province
        for assignment_province, unit in helping
        if caller.reads(assignment_province) or unit in caller.clerk_units(assignment_province)
    )
    if through:
        return through
    if province is None:
        raise NotFound(f"Không có xã {code} ({edition}) / no commune {code} ({edition})")
    raise forbidden(
        f"read:commune:{edition}:{code}",
        f"xem báo cáo xã {code} ({edition}) của tỉnh {province}",
        f"read the report of commune {code} ({edition}) in province {province}",
    )


async def require_read_unit(conn: AsyncConnection, caller: Principal, unit_id: str) -> None:
    province = await conn.scalar(
        select(sponsor_units.c.province).where(sponsor_units.c.id == unit_id)
    )
    if province is None:
        raise NotFound(f"Không có đơn vị {unit_id} / no sponsor unit {unit_id}")
    if caller.reads(province) or unit_id in caller.clerk_units(province):
        return
    raise forbidden(
        f"read:sponsor-unit:{unit_id}",
        f"xem báo cáo đơn vị {unit_id} của tỉnh {province}",
        f"read the report of sponsor unit {unit_id} of province {province}",
    )
