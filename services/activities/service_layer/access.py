"""Who may do what in the activities service: its scope rules, and only here.

- Record, correct or void an activity: the province's coordinator, or the clerk of a
  sponsor unit that acted in it and was a member of the assignment on its day.
- Plans, locks and imports: the province's coordinator (a clerk imports only rows of
  its own units: each other row is refused with the reason).
- Read an activity, a plan or the locks: whoever reads the province, or the clerk of a
  unit of the assignment.

A province is matched through the 2025 lineage (`Principal.reached`).
"""

from collections.abc import Iterable
from datetime import date

from services.activities.domain.activities import Facts
from services.activities.domain.assignments import KnownAssignment
from shared.auth import Principal, forbidden, forbidden_read


def require_record(caller: Principal, assignment: KnownAssignment, facts: Facts) -> None:
    """May record (or correct to, or void) these facts on this assignment."""
    if caller.manages(assignment.province):
        return
    day = facts.occurred_on
    members = on_day_members(assignment, day)
    if caller.clerk_units(assignment.province) & members & set(facts.sponsor_unit_ids):
        return
    raise forbidden(
        f"record:assignment:{assignment.id}",
        f"ghi hoạt động của phân công {assignment.id} ngày {day:%d/%m/%Y} "
        "(chỉ điều phối viên tỉnh hoặc cán bộ của đơn vị thực hiện, là thành viên vào ngày đó)",
        f"record activities of assignment {assignment.id} on {day.isoformat()} (only the "
        "province's coordinator or a clerk of an acting unit that was a member that day)",
    )


def require_manage(caller: Principal, province: str) -> None:
    """Plans, locks and imports of the province."""
    caller.require_manage(province)


def require_import(caller: Principal, province: str) -> None:
    """An import: the coordinator, or a clerk of one of the province's sponsor units
    (whose rows `require_record` then checks one by one)."""
    if not (caller.manages(province) or caller.clerk_units(province)):
        raise forbidden(
            f"import:province:{province}",
            f"nhập hoạt động của tỉnh {province}",
            f"import activities of province {province}",
        )


def require_read_assignment(
    caller: Principal, assignment_id: str, province: str, units: Iterable[str]
) -> None:
    """An assignment's plan or activities: who reads the province, or a clerk of one of
    `units` (the assignment's members, ever)."""
    if not caller.reads_assignment(province, units):
        raise forbidden(
            f"read:assignment:{assignment_id}",
            f"xem phân công {assignment_id} của tỉnh {province}",
            f"read assignment {assignment_id} of province {province}",
        )


def require_province_records(caller: Principal, province: str) -> None:
    """The province's locks and imports: who reads the province, or its units' clerks
    (they need to know which quarters are closed, and what became of their sheets)."""
    if not (caller.reads(province) or caller.clerk_units(province)):
        raise forbidden_read(province)


def require_list(caller: Principal, province: str | None, assignment_ok: bool | None) -> None:
    """A list of activities: of a province the caller reads, or of an assignment it may
    read (`assignment_ok`); only a national viewer lists without naming either."""
    if assignment_ok is not None:
        if not assignment_ok:
            raise forbidden("read:assignment", "xem phân công này", "read this assignment")
        return
    if province is None:
        if not caller.reads_every_province:
            raise forbidden(
                "read:all-provinces",
                "xem hoạt động mọi tỉnh: hãy chọn tỉnh (province) hoặc phân công (assignment_id)",
                "read every province's activities: name a province or an assignment_id",
            )
        return
    caller.require_read(province)


def on_day_members(assignment: KnownAssignment, day: date) -> set[str]:
    return {m.sponsor_unit_id for m in assignment.members if m.active_on(day)}
