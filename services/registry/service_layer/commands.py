"""The registry's commands: check references, let the domain decide, record its events.

Each handler runs inside the caller's transaction (`shared.eventstore.Recorder`): the
events, their outbox rows and the read models are written together or not at all. Each
first checks that the caller manages the province concerned (`Principal.require_manage`:
its coordinator, matched through the 2025 lineage, or an operations account).
"""

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.tables import (
    admin_units,
    assignments,
    programmes,
    sponsor_units,
    villages,
)
from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.assignments import Assignment, Membership, Target, TargetKind
from services.registry.domain.communes import Classification, CommuneRef, Village
from services.registry.domain.programmes import LegalBasis, Period, Programme, legal_basis
from services.registry.domain.sponsor_units import SponsorUnit
from services.registry.service_layer import admin_units as units
from services.registry.service_layer import queries
from shared import eventstore
from shared.auth import Principal
from shared.errors import AlreadyExists, NotFound, Refused, RuleViolation
from shared.events import Event, unit_key
from shared.eventstore import Recorder, check_expected


# -- sponsor units, programmes, villages, classifications ---------------------------------
async def register_sponsor_unit(recorder: Recorder, caller: Principal, unit: SponsorUnit) -> None:
    caller.require_manage(unit.province)
    conn = recorder.conn
    await _check_province(conn, unit.province)
    if unit.parent_id is not None:
        await sponsor_unit_in(conn, unit.parent_id, unit.province, "parent_id")
    await _check_new(conn, unit.id, f"đơn vị {unit.id} / sponsor unit")
    await _check_unit_name_free(conn, unit)
    await recorder.record(
        unit.id, 0, [unit.registered()], province=unit.province, partition_key=unit.province
    )


async def create_programme(recorder: Recorder, caller: Principal, programme: Programme) -> None:
    caller.require_manage(programme.province)
    await _check_province(recorder.conn, programme.province)
    await _check_new(recorder.conn, programme.id, f"chương trình {programme.id} / programme")
    await _check_numbers_free(recorder.conn, programme.province, programme.legal_bases)
    await recorder.record(
        programme.id,
        0,
        [programme.created()],
        province=programme.province,
        partition_key=programme.province,
    )


async def add_legal_basis(
    recorder: Recorder,
    caller: Principal,
    programme_id: str,
    basis: LegalBasis,
    expected: int | None,
) -> int:
    row = await queries.find_programme(recorder.conn, programme_id)
    caller.require_manage(row["province"])
    programme = Programme(
        row["id"],
        row["province"],
        row["name"],
        Period(row["start_year"], row["end_year"]),
        row["scope"],
        tuple(legal_basis(data) for data in row["legal_bases"]),
    )
    version = check_expected(programme_id, row["version"], expected)
    await _check_numbers_free(recorder.conn, programme.province, [basis])
    [stored] = await recorder.record(
        programme_id,
        version,
        [programme.legal_basis_added(basis)],
        province=programme.province,
        partition_key=programme.province,
    )
    return stored.version


async def register_village(recorder: Recorder, caller: Principal, village: Village) -> None:
    caller.require_manage(village.province)
    await commune_in(recorder.conn, village.commune, village.province, "commune")
    await _check_new(recorder.conn, village.id, f"thôn, bản {village.id} / village")
    await recorder.record(
        village.id,
        0,
        [village.registered()],
        province=village.province,
        partition_key=unit_key(Level.COMMUNE, village.commune.edition, village.commune.code),
    )


async def classify_commune(
    recorder: Recorder, caller: Principal, classification: Classification
) -> None:
    caller.require_manage(classification.province)
    commune = classification.commune
    await commune_in(recorder.conn, commune, classification.province, "commune")
    stream_id = f"classifications-{commune.edition}-{commune.code}"
    # Classifications only accumulate, so the stream's version needs no caller's check.
    version = await eventstore.stream_version(recorder.conn, stream_id)
    await recorder.record(
        stream_id,
        version,
        [classification.recorded()],
        province=classification.province,
        partition_key=unit_key(Level.COMMUNE, commune.edition, commune.code),
    )


# -- assignments ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NewAssignment:
    id: str
    programme_id: str
    target: Target
    legal_basis: LegalBasis | None
    members: list[Membership]
    leads: dict[int, str]


async def create_assignment(
    recorder: Recorder, caller: Principal, new: NewAssignment
) -> Assignment:
    conn = recorder.conn
    programme = await _programme_for(conn, new.programme_id)
    province = programme["province"]
    caller.require_manage(province)
    target = await _check_target(conn, new.target, province)
    for index, membership in enumerate(new.members):
        await sponsor_unit_in(conn, membership.sponsor_unit_id, province, f"members.{index}")
    await _check_new(conn, new.id, f"phân công {new.id} / assignment")
    await _check_no_active_duplicate(conn, new.programme_id, target)
    assignment = Assignment.create(
        new.id,
        new.programme_id,
        Period(programme["start_year"], programme["end_year"]),
        province,
        target,
        new.legal_basis,
        new.members,
        new.leads,
    )
    try:
        await _record_assignment(recorder, assignment, 0)
    except IntegrityError as error:
        if "assignments_one_active_per_target" in str(error.orig):
            raise _duplicate(new.target) from error
        raise
    return assignment


async def change_assignment(
    recorder: Recorder,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    change: Callable[[Assignment], None],
) -> None:
    """Load the assignment from its events, apply `change`, record what it decided.

    `expected` is the version the caller last read (If-Match); a stale one is a conflict
    before anything is decided.
    """
    assignment, version = await _load(recorder.conn, caller, assignment_id, expected)
    change(assignment)
    await _record_assignment(recorder, assignment, version)


async def join_assignment(
    recorder: Recorder,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    membership: Membership,
) -> None:
    assignment, version = await _load(recorder.conn, caller, assignment_id, expected)
    await sponsor_unit_in(
        recorder.conn, membership.sponsor_unit_id, assignment.province, "sponsor_unit_id"
    )
    assignment.join(membership)
    await _record_assignment(recorder, assignment, version)


async def continue_on_successor(
    recorder: Recorder,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    chosen_code: str | None,
    reason: str,
) -> None:
    """The target commune was merged by the 2025 reform: continue on the 2025 commune the
    lineage names or, for a split commune, the one the province chose among its successors."""
    assignment, version = await _load(recorder.conn, caller, assignment_id, expected)
    old = assignment.target
    if old.kind == TargetKind.DISTRICT:
        raise RuleViolation("target", "huyện không có đơn vị kế thừa / districts have no successor")
    found = await units.successors(recorder.conn, old.code)
    codes = [row["code"] for row in found]
    if chosen_code is None:
        if len(codes) != 1:
            raise RuleViolation(
                "successor_code",
                f"xã {old.code} được chia cho {', '.join(codes)}: hãy chọn một / "
                f"the commune was split between {', '.join(codes)}: choose one",
            )
        chosen_code = codes[0]
    elif chosen_code not in codes:
        raise RuleViolation(
            "successor_code",
            f"xã {chosen_code} không kế thừa xã {old.code} / "
            f"{chosen_code} is not a successor of {old.code} (successors: {', '.join(codes)})",
        )
    assignment.continue_on(Target(TargetKind.COMMUNE, Edition.FROM_2025, chosen_code), reason)
    await _record_assignment(recorder, assignment, version)


async def continue_district(
    recorder: Recorder,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    communes: list[str],
    reason: str,
) -> list[str]:
    """Districts ended on 30 June 2025: a district assignment carries on, from 1 July, on
    2025 communes that took over some of the district's communes. Answers the new
    assignments' ids; the district's assignment ends and keeps its history."""
    conn = recorder.conn
    district, version = await _load(conn, caller, assignment_id, expected)
    target = district.target
    area = set(target.communes) or {
        row["code"]
        for row in await units.children(conn, Edition.BEFORE_2025, Level.DISTRICT, target.code)
    }
    for index, code in enumerate(communes):
        predecessors = {row["code"] for row in await units.predecessors(conn, code)}
        if not predecessors & area:
            unit = await units.find_unit(conn, Edition.FROM_2025, Level.COMMUNE, code)
            named = f"{unit['name']} ({code})" if unit else code
            raise RuleViolation(
                f"communes.{index}",
                f"xã {named} không kế thừa xã nào của huyện {district.target.name or ''} "
                f"({district.target.code}) / the 2025 commune {code} took over no commune of "
                f"district {district.target.code}",
            )
    continued = district.continue_on_communes(communes, reason)
    for assignment in continued:
        await _check_new(conn, assignment.id, f"phân công {assignment.id} / assignment")
        await _check_no_active_duplicate(conn, assignment.programme_id, assignment.target)
    await _record_assignment(recorder, district, version)
    for assignment in continued:
        await _record_assignment(recorder, assignment, 0)
    return [assignment.id for assignment in continued]


async def _load(
    conn: AsyncConnection, caller: Principal, assignment_id: str, expected: int | None
) -> tuple[Assignment, int]:
    """The assignment from its events, if the caller manages its province; then the
    version check (so that a 409 tells nothing to someone who may not change it)."""
    history = await eventstore.load_stream(conn, assignment_id)
    if not history or not history[0].type.endswith("assignment.created.v1"):
        raise NotFound(f"Không có phân công {assignment_id} / no assignment {assignment_id}")
    assignment = Assignment.from_events([Event(e.type, e.data) for e in history])
    caller.require_manage(assignment.province)
    return assignment, check_expected(assignment_id, assignment.version, expected)


async def _record_assignment(recorder: Recorder, assignment: Assignment, version: int) -> None:
    await recorder.record(
        assignment.id,
        version,
        assignment.pending,
        province=assignment.province,
        partition_key=assignment.recorded_target.partition_key,
    )
    assignment.pending = []


# -- checks ---------------------------------------------------------------------------------
def _same_name(name: str) -> str:
    """A name as written, compared without case or extra spaces (diacritics count)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


async def _check_unit_name_free(conn: AsyncConnection, unit: SponsorUnit) -> None:
    """A province registers a sponsor unit once: the same name again is a 409 naming the
    one there is (register a branch with its own name, or under `parent_id`)."""
    u = sponsor_units.c
    wanted = _same_name(unit.name)
    for unit_id, name in await conn.execute(
        select(u.id, u.name).where(u.province == unit.province)
    ):
        if _same_name(name) == wanted:
            raise Refused(
                f"Tỉnh {unit.province} đã có đơn vị «{name}» ({unit_id}) / province "
                f"{unit.province} already has the sponsor unit {name!r} ({unit_id})"
            )


def _same_number(number: str) -> str:
    return "".join(number.split()).upper()


async def _check_numbers_free(
    conn: AsyncConnection, province: str, bases: Iterable[LegalBasis]
) -> None:
    """A decision's number names one decision: a number a programme of the province
    already carries is a 409 naming that programme."""
    wanted = {_same_number(basis.number): basis.number for basis in bases}
    if not wanted:
        return
    p = programmes.c
    for programme_id, name, known in await conn.execute(
        select(p.id, p.name, p.legal_bases).where(p.province == province)
    ):
        for basis in known:
            if _same_number(basis["number"]) in wanted:
                raise Refused(
                    f"Văn bản số {basis['number']} đã là căn cứ của chương trình «{name}» "
                    f"({programme_id}) / decision {basis['number']} is already registered "
                    f"for programme {programme_id}"
                )


async def _check_new(conn: AsyncConnection, stream_id: str, what: str) -> None:
    if await eventstore.stream_version(conn, stream_id):
        raise AlreadyExists(f"{what} {stream_id} đã có / already exists")


async def _check_province(conn: AsyncConnection, code: str) -> None:
    found = await conn.scalar(
        select(admin_units.c.code).where(
            admin_units.c.level == Level.PROVINCE, admin_units.c.code == code
        )
    )
    if found is None:
        raise RuleViolation("province", f"không có tỉnh mã {code} / no province with code {code}")


async def sponsor_unit_in(conn: AsyncConnection, unit_id: str, province: str, field: str) -> None:
    u = sponsor_units.c
    found = (await conn.execute(select(u.province, u.name).where(u.id == unit_id))).one_or_none()
    if found is None:
        raise RuleViolation(
            field,
            f"không có đơn vị {unit_id} / no sponsor unit {unit_id} (in province {province})",
        )
    if found.province != province:
        raise RuleViolation(
            field,
            f"đơn vị «{found.name}» ({unit_id}) thuộc tỉnh {found.province}, không phải tỉnh "
            f"{province} / the sponsor unit {found.name!r} belongs to province "
            f"{found.province}, not {province}",
        )


async def commune_in(
    conn: AsyncConnection, commune: CommuneRef, province: str, field: str
) -> dict[str, Any]:
    unit = await units.find_unit(conn, commune.edition, Level.COMMUNE, commune.code)
    if unit is None:
        raise RuleViolation(
            field,
            f"không có xã mã {commune.code} ({commune.edition}) / "
            f"no commune {commune.code} in edition {commune.edition}",
        )
    if unit["province_code"] != province:
        raise RuleViolation(
            field,
            f"{unit['name']} thuộc tỉnh {unit['province_code']}, không phải {province} / "
            f"the commune is in province {unit['province_code']}, not {province}",
        )
    return unit


async def _check_target(conn: AsyncConnection, target: Target, province: str) -> Target:
    """The target if it exists in the province; a district's with its name and communes."""
    if target.kind == TargetKind.DISTRICT:
        unit = await units.find_unit(conn, target.edition, Level.DISTRICT, target.code)
        if unit is None or unit["province_code"] != province:
            raise RuleViolation(
                "target.code",
                f"không có huyện mã {target.code} trong tỉnh {province} / "
                f"no district {target.code} in province {province}",
            )
        found = await units.children(conn, target.edition, Level.DISTRICT, target.code)
        return replace(target, name=unit["name"], communes=tuple(row["code"] for row in found))
    await commune_in(conn, CommuneRef(target.edition, target.code), province, "target.code")
    if target.kind == TargetKind.VILLAGE:
        village = await conn.scalar(
            select(villages.c.id).where(
                villages.c.id == target.village_id,
                villages.c.commune_edition == target.edition,
                villages.c.commune_code == target.code,
            )
        )
        if village is None:
            raise RuleViolation(
                "target.village_id",
                f"không có thôn, bản {target.village_id} trong xã {target.code} / "
                f"no village {target.village_id} in commune {target.code}",
            )
    return target


async def _programme_for(conn: AsyncConnection, programme_id: str) -> dict[str, Any]:
    try:
        return await queries.find_programme(conn, programme_id)
    except NotFound as missing:
        raise RuleViolation("programme_id", str(missing)) from missing


async def _check_no_active_duplicate(
    conn: AsyncConnection, programme_id: str, target: Target
) -> None:
    a = assignments.c
    village = (
        a.recorded_village_id.is_(None)
        if target.village_id is None
        else a.recorded_village_id == target.village_id
    )
    existing = await conn.scalar(
        select(a.id).where(
            a.programme_id == programme_id,
            a.recorded_kind == target.kind,
            a.recorded_edition == target.edition,
            a.recorded_code == target.code,
            village,
            a.ended_on.is_(None),
        )
    )
    if existing is not None:
        raise _duplicate(target, existing)


def _duplicate(target: Target, existing: str | None = None) -> RuleViolation:
    which = f" ({existing})" if existing else ""
    return RuleViolation(
        "target",
        f"chương trình đã có phân công đang hiệu lực cho {target.kind} {target.code}{which} / "
        f"the programme already has an active assignment for this target{which}",
    )
