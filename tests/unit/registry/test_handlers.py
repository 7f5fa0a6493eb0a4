"""The registry's command handlers on an in-memory unit of work: what they save, what they
refuse and why, and that a refusal saves nothing (cosmicpython's `test_handlers.py`,
event-sourced). The same handlers on PostgreSQL and Kafka: tests/integration/registry."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.assignments import Assignment, Membership, Target, TargetKind
from services.registry.domain.communes import (
    Classification,
    ClassificationKind,
    CommuneRef,
    classifications_stream,
)
from services.registry.domain.programmes import LegalBasis, Period, Programme, same_number
from services.registry.domain.sponsor_units import SponsorUnit, SponsorUnitKind, same_name
from services.registry.service_layer import commands
from services.registry.service_layer.commands import NewAssignment
from services.registry.service_layer.unit_of_work import RegistryUnit
from shared.auth import Forbidden, Principal, Role
from shared.contract import to_json
from shared.errors import AlreadyExists, NotFound, Refused, RuleViolation
from shared.eventstore import ConcurrencyConflict
from tests.fakes import InMemoryEvents

COORDINATOR = Principal("dieuphoi", "Điều phối", frozenset({Role.PROVINCE_COORDINATOR}),
                        frozenset({"60"}))  # fmt: skip
DIEN_BIEN = Principal("dieuphoi-db", "Điều phối", frozenset({Role.PROVINCE_COORDINATOR}),
                      frozenset({"11"}))  # fmt: skip
NOTICE_417 = LegalBasis("417-TB/TU", date(2024, 8, 5), "Tỉnh ủy Bình Thuận")
DONG_GIANG = Target(TargetKind.COMMUNE, Edition.PRE_2025, "23074")
HAM_CAN = Target(TargetKind.COMMUNE, Edition.PRE_2025, "23116")
SIGNED = date(2024, 9, 30)


def unit(code: str, name: str, province: str = "60") -> dict[str, Any]:
    return {"code": code, "name": name, "province_code": province}


class FakeReads:
    """Administrative units and lineage as fixed dicts; the read models' questions
    answered by replaying the fake store, as the projection would keep them."""

    def __init__(self, events: InMemoryEvents) -> None:
        self.events = events
        self.units = {
            (Edition.PRE_2025, Level.PROVINCE, "60"): unit("60", "Bình Thuận"),
            (Edition.PRE_2025, Level.PROVINCE, "11"): unit("11", "Điện Biên", "11"),
            (Edition.PRE_2025, Level.COMMUNE, "23074"): unit("23074", "Đông Giang"),
            (Edition.PRE_2025, Level.COMMUNE, "23116"): unit("23116", "Hàm Cần"),
            (Edition.FROM_2025, Level.COMMUNE, "23122"): unit("23122", "Hàm Thạnh", "68"),
            (Edition.FROM_2025, Level.COMMUNE, "23125"): unit("23125", "Hàm Kiệm", "68"),
        }
        self.successions = {"23116": ["23122", "23125"]}  # Hàm Cần, split

    def _streams(self, created: str) -> list[list[Any]]:
        return [
            [saved.event for saved in stream]
            for stream in self.events.streams.values()
            if stream and stream[0].event.type.endswith(created)
        ]

    async def province_exists(self, code: str) -> bool:
        return (Edition.PRE_2025, Level.PROVINCE, code) in self.units

    async def unit_named(self, province: str, name: str) -> tuple[str, str] | None:
        for history in self._streams("sponsor_unit.registered.v1"):
            found = SponsorUnit.from_events(history)
            if found.province == province and same_name(found.name) == same_name(name):
                return found.id, found.name
        return None

    async def programme_citing(
        self, province: str, numbers: set[str]
    ) -> tuple[str, str, str] | None:
        for history in self._streams("programme.created.v1"):
            programme = Programme.from_events(history)
            for basis in programme.legal_bases:
                if programme.province == province and same_number(basis.number) in numbers:
                    return programme.id, programme.name, basis.number
        return None

    async def find_unit(self, edition: Edition, level: Level, code: str) -> dict[str, Any] | None:
        return self.units.get((edition, level, code))

    async def children(self, edition: Edition, level: Level, code: str) -> list[dict[str, Any]]:
        return []

    async def successors(self, old_code: str) -> list[dict[str, Any]]:
        return [{"code": code} for code in self.successions.get(old_code, [])]

    async def predecessors(self, new_code: str) -> list[dict[str, Any]]:
        return [{"code": old} for old, new in self.successions.items() if new_code in new]

    async def has_village(self, village_id: str, edition: Edition, code: str) -> bool:
        return False

    async def active_assignment(self, programme_id: str, target: Target) -> str | None:
        for history in self._streams("assignment.created.v1"):
            found = Assignment.from_events(history)
            same = found.recorded_target == target and found.programme_id == programme_id
            if same and found.active:
                return found.id
        return None


@pytest.fixture
def events() -> InMemoryEvents:
    return InMemoryEvents()


@pytest.fixture
def uow(events: InMemoryEvents) -> RegistryUnit:
    return RegistryUnit(events, FakeReads(events))


def sponsor(unit_id: str, name: str, province: str = "60") -> SponsorUnit:
    return SponsorUnit(unit_id, province, name, SponsorUnitKind.DEPARTMENT)


def programme(programme_id: str = "programme-bt-2024") -> Programme:
    return Programme(programme_id, "60", "Kết nghĩa 2024-2025", Period(2024, 2025), "",
                     (NOTICE_417,))  # fmt: skip


def new_assignment(assignment_id: str = "assignment-dong-giang", **change: Any) -> NewAssignment:
    fields: dict[str, Any] = {
        "id": assignment_id,
        "programme_id": "programme-bt-2024",
        "target": DONG_GIANG,
        "legal_basis": NOTICE_417,
        "members": [Membership("unit-sct", SIGNED)],
        "leads": {2024: "unit-sct"},
    } | change
    return NewAssignment(**fields)


@pytest.fixture
async def programme_and_unit(uow: RegistryUnit) -> None:
    await commands.register_sponsor_unit(uow, COORDINATOR, sponsor("unit-sct", "Sở Công Thương"))
    await commands.create_programme(uow, COORDINATOR, programme())


# -- sponsor units and programmes -----------------------------------------------------------
async def test_a_sponsor_unit_is_registered_once_by_id_and_by_name(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    await commands.register_sponsor_unit(uow, COORDINATOR, sponsor("u1", "Sở Công Thương"))
    [saved] = events.streams["u1"]
    assert saved.event.type == "vn.ketnghia.registry.sponsor_unit.registered.v1"
    assert (saved.province, saved.partition_key) == ("60", "60")

    with pytest.raises(AlreadyExists, match="u1"):
        await commands.register_sponsor_unit(uow, COORDINATOR, sponsor("u1", "Sở khác"))
    with pytest.raises(Refused, match=r"already has the sponsor unit .* \(u1\)"):
        await commands.register_sponsor_unit(uow, COORDINATOR, sponsor("u2", " sở  công thương"))
    assert set(events.streams) == {"u1"}
    assert events.rollbacks == 2


async def test_a_unit_is_refused_outside_the_callers_province_or_under_a_foreign_parent(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    with pytest.raises(Forbidden):
        await commands.register_sponsor_unit(uow, DIEN_BIEN, sponsor("u1", "Sở Công Thương"))
    await commands.register_sponsor_unit(uow, DIEN_BIEN, sponsor("u11", "Sở Y tế", "11"))
    branch = SponsorUnit("u2", "60", "Chi nhánh", SponsorUnitKind.BANK, parent_id="u11")
    with pytest.raises(RuleViolation, match="belongs to province 11") as foreign:
        await commands.register_sponsor_unit(uow, COORDINATOR, branch)
    assert foreign.value.field == "parent_id"
    assert set(events.streams) == {"u11"}


async def test_a_legal_basis_is_added_on_the_version_read_and_cited_once_a_province(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    await commands.create_programme(uow, COORDINATOR, programme())
    amended = LegalBasis("15/QĐ-UBND", date(2025, 1, 9), "UBND tỉnh Bình Thuận")
    await commands.add_legal_basis(uow, COORDINATOR, "programme-bt-2024", amended, 1)

    later = LegalBasis("16/QĐ-UBND", date(2025, 2, 9), "UBND tỉnh Bình Thuận")
    with pytest.raises(ConcurrencyConflict) as stale:
        await commands.add_legal_basis(uow, COORDINATOR, "programme-bt-2024", later, 1)
    assert (stale.value.stream_id, stale.value.actual_version) == ("programme-bt-2024", 2)
    with pytest.raises(Refused, match="15/QĐ-UBND"):
        await commands.create_programme(uow, COORDINATOR, replace_bases(programme("p2"), amended))
    with pytest.raises(NotFound):
        await commands.add_legal_basis(uow, COORDINATOR, "programme-none", later, None)
    assert events.types("programme-bt-2024") == [
        "vn.ketnghia.registry.programme.created.v1",
        "vn.ketnghia.registry.programme.legal_basis_added.v1",
    ]
    assert "p2" not in events.streams


def replace_bases(found: Programme, *bases: LegalBasis) -> Programme:
    return Programme(found.id, found.province, found.name, found.period, found.scope, bases)


# -- assignments ----------------------------------------------------------------------------
@pytest.mark.usefixtures("programme_and_unit")
async def test_an_assignment_is_saved_keyed_by_its_commune_and_made_once(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    await commands.create_assignment(uow, COORDINATOR, new_assignment())
    [saved] = events.streams["assignment-dong-giang"]
    assert saved.event.type == "vn.ketnghia.registry.assignment.created.v1"
    assert saved.partition_key == "commune:pre-2025:23074"

    with pytest.raises(AlreadyExists):
        await commands.create_assignment(uow, COORDINATOR, new_assignment())
    with pytest.raises(RuleViolation, match="active assignment") as twice:
        await commands.create_assignment(uow, COORDINATOR, new_assignment("assignment-2"))
    assert twice.value.field == "target"
    assert "assignment-2" not in events.streams


@pytest.mark.usefixtures("programme_and_unit")
async def test_an_assignment_names_a_programme_and_members_of_its_province(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    with pytest.raises(RuleViolation) as no_programme:
        await commands.create_assignment(
            uow, COORDINATOR, new_assignment(programme_id="programme-none")
        )
    await commands.register_sponsor_unit(uow, DIEN_BIEN, sponsor("u11", "Sở Y tế", "11"))
    with pytest.raises(RuleViolation, match="belongs to province 11") as foreign:
        await commands.create_assignment(
            uow, COORDINATOR, new_assignment(members=[Membership("u11", SIGNED)], leads={})
        )
    assert (no_programme.value.field, foreign.value.field) == ("programme_id", "members.0")
    assert "assignment-dong-giang" not in events.streams


@pytest.mark.usefixtures("programme_and_unit")
async def test_a_change_on_a_stale_version_is_a_conflict_and_saves_nothing(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    await commands.create_assignment(uow, COORDINATOR, new_assignment())

    def end(assignment: Assignment) -> None:
        assignment.end(date(2024, 12, 31), "Quyết định mới")

    await commands.change_assignment(uow, COORDINATOR, "assignment-dong-giang", 1, end)
    with pytest.raises(ConcurrencyConflict) as stale:
        await commands.change_assignment(uow, COORDINATOR, "assignment-dong-giang", 1, end)
    assert stale.value.stream_id == "assignment-dong-giang"
    with pytest.raises(RuleViolation, match="has ended"):
        await commands.change_assignment(uow, COORDINATOR, "assignment-dong-giang", None, end)
    with pytest.raises(Forbidden):
        await commands.change_assignment(uow, DIEN_BIEN, "assignment-dong-giang", None, end)
    assert events.types("assignment-dong-giang")[-1].endswith("assignment.ended.v1")
    assert len(events.streams["assignment-dong-giang"]) == 2


@pytest.mark.usefixtures("programme_and_unit")
async def test_a_split_commune_continues_on_the_successor_the_province_chose(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    await commands.create_assignment(uow, COORDINATOR, new_assignment("a-ham-can", target=HAM_CAN))
    with pytest.raises(RuleViolation, match="choose one") as unchosen:
        await commands.continue_on_successor(uow, COORDINATOR, "a-ham-can", 1, None, "sáp nhập")
    with pytest.raises(RuleViolation, match="not a successor"):
        await commands.continue_on_successor(uow, COORDINATOR, "a-ham-can", 1, "23074", "x")
    assert unchosen.value.field == "successor_code"
    assert len(events.streams["a-ham-can"]) == 1

    await commands.continue_on_successor(uow, COORDINATOR, "a-ham-can", 1, "23122", "sáp nhập")
    succeeded = events.streams["a-ham-can"][1]
    assert to_json(succeeded.event.data)["to"]["code"] == "23122"
    assert succeeded.partition_key == "commune:pre-2025:23116"  # the key as made


async def test_a_communes_classifications_accumulate_on_one_stream(
    uow: RegistryUnit, events: InMemoryEvents
) -> None:
    commune = CommuneRef(Edition.PRE_2025, "23074")
    kind = ClassificationKind.POOR_NEAR_POOR_RATE
    for value, day in ((Decimal("41.2"), date(2023, 12, 31)), (Decimal("35"), date(2024, 12, 31))):
        classification = Classification("60", commune, kind, value, day, "báo cáo của UBND xã")
        await commands.classify_commune(uow, COORDINATOR, classification)
    stream = events.streams[classifications_stream(commune)]
    assert [saved.version for saved in stream] == [1, 2]
    assert [to_json(saved.event.data)["value"] for saved in stream] == ["41.2", "35"]
    assert {saved.partition_key for saved in stream} == {"commune:pre-2025:23074"}

    elsewhere = Classification("60", CommuneRef(Edition.FROM_2025, "23122"), kind, Decimal(1),
                               date(2025, 8, 1), "báo cáo")  # fmt: skip
    with pytest.raises(RuleViolation, match="not 60") as wrong_province:
        await commands.classify_commune(uow, COORDINATOR, elsewhere)
    assert wrong_province.value.field == "commune"
