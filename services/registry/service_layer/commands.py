"""The registry's commands: check references, let the domain decide, save what it decided,
each in one unit of work (`service_layer.unit_of_work`: `async with uow:` is the
transaction, so the events, their outbox rows and the read models are written together or
not at all). Each first checks that the caller manages the province concerned
(`Principal.require_manage`: its coordinator, matched through the 2025 lineage, or an
operations account).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.assignments import Assignment, Membership, Target, TargetKind
from services.registry.domain.communes import (
    Classification,
    CommuneClassifications,
    CommuneRef,
    Village,
    classifications_stream,
)
from services.registry.domain.programmes import LegalBasis, Programme, same_number
from services.registry.domain.sponsor_units import SponsorUnit
from services.registry.service_layer.unit_of_work import Reads, RegistryUnit, Unit
from shared.auth import Principal
from shared.errors import AlreadyExists, NotFound, Refused, RuleViolation
from shared.eventstore import check_expected


# -- sponsor units, programmes, villages, classifications ---------------------------------
async def register_sponsor_unit(uow: RegistryUnit, caller: Principal, unit: SponsorUnit) -> None:
    caller.require_manage(unit.province)
    async with uow:
        await _check_province(uow.reads, unit.province)
        if unit.parent_id is not None:
            await sponsor_unit_in(uow, unit.parent_id, unit.province, "parent_id")
        await _check_new(uow, unit.id, f"đơn vị {unit.id} / sponsor unit")
        await _check_unit_name_free(uow.reads, unit)
        unit.register()
        await uow.sponsor_units.save(unit)


async def create_programme(uow: RegistryUnit, caller: Principal, programme: Programme) -> None:
    caller.require_manage(programme.province)
    async with uow:
        await _check_province(uow.reads, programme.province)
        await _check_new(uow, programme.id, f"chương trình {programme.id} / programme")
        await _check_numbers_free(uow.reads, programme.province, programme.legal_bases)
        programme.create()
        await uow.programmes.save(programme)


async def add_legal_basis(
    uow: RegistryUnit,
    caller: Principal,
    programme_id: str,
    basis: LegalBasis,
    expected: int | None,
) -> None:
    async with uow:
        programme = await uow.programmes.load(programme_id)
        if programme is None:
            raise NotFound(f"Không có chương trình {programme_id} / no programme {programme_id}")
        caller.require_manage(programme.province)
        check_expected(programme_id, programme.version, expected)
        await _check_numbers_free(uow.reads, programme.province, [basis])
        programme.add_legal_basis(basis)
        await uow.programmes.save(programme)


async def register_village(uow: RegistryUnit, caller: Principal, village: Village) -> None:
    caller.require_manage(village.province)
    async with uow:
        await commune_in(uow.reads, village.commune, village.province, "commune")
        await _check_new(uow, village.id, f"thôn, bản {village.id} / village")
        village.register()
        await uow.villages.save(village)


async def classify_commune(
    uow: RegistryUnit, caller: Principal, classification: Classification
) -> None:
    caller.require_manage(classification.province)
    commune = classification.commune
    async with uow:
        await commune_in(uow.reads, commune, classification.province, "commune")
        found = await uow.classifications.load(classifications_stream(commune))
        classifications = found or CommuneClassifications(commune, classification.province)
        classifications.classify(classification)
        await uow.classifications.save(classifications)


# -- assignments ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NewAssignment:
    id: str
    programme_id: str
    target: Target
    legal_basis: LegalBasis | None
    members: list[Membership]
    leads: dict[int, str]


async def create_assignment(uow: RegistryUnit, caller: Principal, new: NewAssignment) -> Assignment:
    async with uow:
        programme = await uow.programmes.load(new.programme_id)
        if programme is None:
            raise RuleViolation(
                "programme_id",
                f"Không có chương trình {new.programme_id} / no programme {new.programme_id}",
            )
        province = programme.province
        caller.require_manage(province)
        target = await _check_target(uow.reads, new.target, province)
        for index, membership in enumerate(new.members):
            await sponsor_unit_in(uow, membership.sponsor_unit_id, province, f"members.{index}")
        await _check_new(uow, new.id, f"phân công {new.id} / assignment")
        await _check_no_active_duplicate(uow.reads, new.programme_id, target)
        assignment = Assignment.create(
            new.id,
            new.programme_id,
            programme.period,
            province,
            target,
            new.legal_basis,
            new.members,
            new.leads,
        )
        try:
            await uow.assignments.save(assignment)
        except IntegrityError as error:
            if "assignments_one_active_per_target" in str(error.orig):
                raise _duplicate(new.target) from error
            raise
    return assignment


async def change_assignment(
    uow: RegistryUnit,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    change: Callable[[Assignment], None],
) -> None:
    """Load the assignment from its events, apply `change`, save what it decided.

    `expected` is the version the caller last read (If-Match); a stale one is a conflict
    before anything is decided.
    """
    async with uow:
        assignment = await _load(uow, caller, assignment_id, expected)
        change(assignment)
        await uow.assignments.save(assignment)


async def join_assignment(
    uow: RegistryUnit,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    membership: Membership,
) -> None:
    async with uow:
        assignment = await _load(uow, caller, assignment_id, expected)
        await sponsor_unit_in(
            uow, membership.sponsor_unit_id, assignment.province, "sponsor_unit_id"
        )
        assignment.join(membership)
        await uow.assignments.save(assignment)


async def continue_on_successor(
    uow: RegistryUnit,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    chosen_code: str | None,
    reason: str,
) -> None:
    """The target commune was merged by the 2025 reform: continue on the 2025 commune the
    lineage names or, for a split commune, the one the province chose among its successors."""
    async with uow:
        assignment = await _load(uow, caller, assignment_id, expected)
        old = assignment.target
        if old.kind == TargetKind.DISTRICT:
            raise RuleViolation(
                "target", "huyện không có đơn vị kế thừa / districts have no successor"
            )
        codes = [row["code"] for row in await uow.reads.successors(old.code)]
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
                f"xã {chosen_code} không kế thừa xã {old.code} / {chosen_code} is not a "
                f"successor of {old.code} (successors: {', '.join(codes)})",
            )
        assignment.continue_on(Target(TargetKind.COMMUNE, Edition.FROM_2025, chosen_code), reason)
        await uow.assignments.save(assignment)


async def continue_district(
    uow: RegistryUnit,
    caller: Principal,
    assignment_id: str,
    expected: int | None,
    communes: list[str],
    reason: str,
) -> list[str]:
    """Districts ended on 30 June 2025: a district assignment carries on, from 1 July, on
    2025 communes that took over some of the district's communes. Answers the new
    assignments' ids; the district's assignment ends and keeps its history."""
    async with uow:
        district = await _load(uow, caller, assignment_id, expected)
        target = district.target
        area = set(target.communes) or {
            row["code"]
            for row in await uow.reads.children(Edition.PRE_2025, Level.DISTRICT, target.code)
        }
        for index, code in enumerate(communes):
            predecessors = {row["code"] for row in await uow.reads.predecessors(code)}
            if not predecessors & area:
                unit = await uow.reads.find_unit(Edition.FROM_2025, Level.COMMUNE, code)
                named = f"{unit['name']} ({code})" if unit else code
                raise RuleViolation(
                    f"communes.{index}",
                    f"xã {named} không kế thừa xã nào của huyện {target.name or ''} "
                    f"({target.code}) / the 2025 commune {code} took over no commune of "
                    f"district {target.code}",
                )
        continued = district.continue_on_communes(communes, reason)
        for assignment in continued:
            await _check_new(uow, assignment.id, f"phân công {assignment.id} / assignment")
            await _check_no_active_duplicate(uow.reads, assignment.programme_id, assignment.target)
        await uow.assignments.save(district, *continued)
    return [assignment.id for assignment in continued]


async def _load(
    uow: RegistryUnit, caller: Principal, assignment_id: str, expected: int | None
) -> Assignment:
    """The assignment from its events, if the caller manages its province; then the
    version check (so that a 409 tells nothing to someone who may not change it)."""
    assignment = await uow.assignments.load(assignment_id)
    if assignment is None:
        raise NotFound(f"Không có phân công {assignment_id} / no assignment {assignment_id}")
    caller.require_manage(assignment.province)
    check_expected(assignment_id, assignment.version, expected)
    return assignment


# -- checks ---------------------------------------------------------------------------------
async def _check_unit_name_free(reads: Reads, unit: SponsorUnit) -> None:
    """A province registers a sponsor unit once: the same name again is a 409 naming the
    one there is (register a branch with its own name, or under `parent_id`)."""
    found = await reads.unit_named(unit.province, unit.name)
    if found is not None:
        unit_id, name = found
        raise Refused(
            f"Tỉnh {unit.province} đã có đơn vị «{name}» ({unit_id}) / province "
            f"{unit.province} already has the sponsor unit {name!r} ({unit_id})"
        )


async def _check_numbers_free(reads: Reads, province: str, bases: Iterable[LegalBasis]) -> None:
    """A decision's number names one decision: a number a programme of the province
    already carries is a 409 naming that programme."""
    wanted = {same_number(basis.number) for basis in bases}
    if not wanted:
        return
    found = await reads.programme_citing(province, wanted)
    if found is not None:
        programme_id, name, number = found
        raise Refused(
            f"Văn bản số {number} đã là căn cứ của chương trình «{name}» ({programme_id}) / "
            f"decision {number} is already registered for programme {programme_id}"
        )


async def _check_new(uow: RegistryUnit, stream_id: str, what: str) -> None:
    """Creates name their id: a retried create is a 409, not a copy (the registry's ids,
    of every kind, share one namespace)."""
    if await uow.assignments.taken([stream_id]):
        raise AlreadyExists(f"{what} {stream_id} đã có / already exists")


async def _check_province(reads: Reads, code: str) -> None:
    if not await reads.province_exists(code):
        raise RuleViolation("province", f"không có tỉnh mã {code} / no province with code {code}")


async def sponsor_unit_in(uow: RegistryUnit, unit_id: str, province: str, field: str) -> None:
    found = await uow.sponsor_units.load(unit_id)
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


async def commune_in(reads: Reads, commune: CommuneRef, province: str, field: str) -> Unit:
    unit = await reads.find_unit(commune.edition, Level.COMMUNE, commune.code)
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


async def _check_target(reads: Reads, target: Target, province: str) -> Target:
    """The target if it exists in the province; a district's with its name and communes."""
    if target.kind == TargetKind.DISTRICT:
        unit = await reads.find_unit(target.edition, Level.DISTRICT, target.code)
        if unit is None or unit["province_code"] != province:
            raise RuleViolation(
                "target.code",
                f"không có huyện mã {target.code} trong tỉnh {province} / "
                f"no district {target.code} in province {province}",
            )
        found = await reads.children(target.edition, Level.DISTRICT, target.code)
        return replace(target, name=unit["name"], communes=tuple(row["code"] for row in found))
    await commune_in(reads, CommuneRef(target.edition, target.code), province, "target.code")
    if target.kind == TargetKind.VILLAGE:
        assert target.village_id is not None  # a village target names its village
        if not await reads.has_village(target.village_id, target.edition, target.code):
            raise RuleViolation(
                "target.village_id",
                f"không có thôn, bản {target.village_id} trong xã {target.code} / "
                f"no village {target.village_id} in commune {target.code}",
            )
    return target


async def _check_no_active_duplicate(reads: Reads, programme_id: str, target: Target) -> None:
    existing = await reads.active_assignment(programme_id, target)
    if existing is not None:
        raise _duplicate(target, existing)


def _duplicate(target: Target, existing: str | None = None) -> RuleViolation:
    which = f" ({existing})" if existing else ""
    return RuleViolation(
        "target",
        f"chương trình đã có phân công đang hiệu lực cho {target.kind} {target.code}{which} / "
        f"the programme already has an active assignment for this target{which}",
    )
