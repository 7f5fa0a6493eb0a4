"""The activities service's command handlers on an in-memory unit of work: what they save,
what they refuse and why, and that a refusal saves nothing (cosmicpython's
`test_handlers.py`, event-sourced). The same handlers on PostgreSQL and Kafka:
tests/integration/activities."""

from collections.abc import Sequence
from dataclasses import replace

import pytest

from services.activities.domain.activities import Activity, Contribution, Facts
from services.activities.domain.assignments import KnownAssignment
from services.activities.domain.locks import Lock, PeriodLocked, ProvinceLocks, locks_stream
from services.activities.domain.plans import Commitment, Plan, plan_stream
from services.activities.service_layer import commands
from services.activities.service_layer.commands import NewActivity
from services.activities.service_layer.unit_of_work import ActivitiesUnit
from shared.auth import Forbidden, Principal, Role
from shared.contract import to_json
from shared.errors import AlreadyExists, NotFound, RuleViolation
from shared.eventstore import ConcurrencyConflict, Decided
from tests.fakes import InMemoryEvents
from tests.unit.activities.test_activities import ASSIGNMENT, BHXH, BICYCLES, SO_CONG_THUONG

BINH_THUAN = frozenset({"60"})
COORDINATOR = Principal("dieuphoi", "Điều phối", frozenset({Role.PROVINCE_COORDINATOR}), BINH_THUAN)
BHXH_CLERK = Principal(
    "canbo", "Cán bộ", frozenset({Role.UNIT_CLERK}), BINH_THUAN, frozenset({BHXH})
)
Q3_2024 = Lock("q3-2024", 2024, 3, None, "Đã báo cáo quý 3", "Ban Dân vận")


class FakeReads:
    """What the registry said, as fixed dicts; the locks in force and the commitments
    replayed from the fake store, as the projection would keep them."""

    def __init__(self, events: InMemoryEvents, *assignments: KnownAssignment) -> None:
        self.events = events
        self.assignments = {assignment.id: assignment for assignment in assignments}
        self.held: list[tuple[str, bool]] = []

    async def known_assignments(self, ids: set[str]) -> dict[str, KnownAssignment]:
        return {id_: self.assignments[id_] for id_ in ids if id_ in self.assignments}

    async def hold_locks(self, provinces: set[str], *, exclusive: bool) -> None:
        self.held += [(province, exclusive) for province in sorted(provinces)]

    async def locks_in_force(self, provinces: set[str]) -> dict[str, ProvinceLocks]:
        found = {}
        for province in provinces:
            history = await self.events.load(locks_stream(province))
            found[province] = (
                ProvinceLocks.from_events(history) if history else ProvinceLocks(province)
            )
        return found

    async def commitments(self, wanted: set[tuple[str, int, str]]) -> set[tuple[str, int, str]]:
        promised = set()
        for assignment_id, year, commitment_id in wanted:
            history = await self.events.load(plan_stream(assignment_id, year))
            if history and commitment_id in Plan.from_events(history).commitments:
                promised.add((assignment_id, year, commitment_id))
        return promised

    async def unit_names(self, ids: set[str]) -> dict[str, str]:
        return {}

    async def commune_names(self, places: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        return {}


@pytest.fixture
def events() -> InMemoryEvents:
    return InMemoryEvents()


@pytest.fixture
def reads(events: InMemoryEvents) -> FakeReads:
    return FakeReads(events, ASSIGNMENT)


@pytest.fixture
def uow(events: InMemoryEvents, reads: FakeReads) -> ActivitiesUnit:
    return ActivitiesUnit(events, reads)


async def recorded(uow: ActivitiesUnit, activity_id: str = "a1", facts: Facts = BICYCLES) -> None:
    await commands.record_activity(uow, COORDINATOR, NewActivity(activity_id, facts))


# -- recording ------------------------------------------------------------------------------
async def test_recording_saves_one_event_keyed_by_the_commune(
    uow: ActivitiesUnit, events: InMemoryEvents, reads: FakeReads
) -> None:
    activity = await commands.record_activity(uow, COORDINATOR, NewActivity("a1", BICYCLES))

    [saved] = events.streams["a1"]
    assert saved.event.type == "vn.ketnghia.activity.recorded.v1"
    assert (saved.version, saved.province, saved.partition_key) == (
        1,
        "60",
        "commune:pre-2025:23074",
    )
    assert activity.pending == []
    assert activity.version == 1
    assert events.commits == 1
    assert reads.held == [("60", False)]  # the province's lock stream, shared


async def test_a_retried_id_is_already_there_and_saves_nothing(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    await recorded(uow)
    with pytest.raises(AlreadyExists, match="a1"):
        await recorded(uow, facts=replace(BICYCLES, description="lần nữa"))
    assert events.types("a1") == ["vn.ketnghia.activity.recorded.v1"]
    assert events.rollbacks == 1


async def test_an_assignment_not_heard_of_is_refused_naming_the_field(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    with pytest.raises(RuleViolation, match="has not \\(yet\\) heard") as refused:
        await recorded(uow, facts=replace(BICYCLES, assignment_id="assignment-unknown"))
    assert refused.value.field == "assignment_id"
    assert events.streams == {}
    assert events.rollbacks == 1


async def test_a_clerk_records_only_for_a_unit_that_acted(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    with pytest.raises(Forbidden):
        await commands.record_activity(uow, BHXH_CLERK, NewActivity("a1", BICYCLES))
    assert events.streams == {}

    theirs = replace(BICYCLES, contributions=(Contribution(BHXH, BICYCLES.value_vnd),))
    await commands.record_activity(uow, BHXH_CLERK, NewActivity("a2", theirs))
    assert events.types("a2") == ["vn.ketnghia.activity.recorded.v1"]


async def test_a_commitment_must_be_in_that_years_plan(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    with pytest.raises(RuleViolation) as refused:
        await recorded(uow, facts=replace(BICYCLES, commitment_id="bicycles"))
    assert refused.value.field == "commitment_id"

    bicycles = Commitment("bicycles", "Tặng xe đạp cho học sinh nghèo")
    await commands.create_plan(uow, COORDINATOR, ASSIGNMENT.id, 2024, [bicycles])
    await recorded(uow, facts=replace(BICYCLES, commitment_id="bicycles"))
    assert events.types("a1") == ["vn.ketnghia.activity.recorded.v1"]


# -- corrections and voids ------------------------------------------------------------------
async def test_a_correction_is_saved_after_the_version_read(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    await recorded(uow)
    fixed = replace(BICYCLES, description="15 xe đạp (đã sửa)")
    activity = await commands.correct_activity(uow, COORDINATOR, "a1", 1, fixed, "gõ nhầm")

    assert events.types("a1")[1] == "vn.ketnghia.activity.corrected.v1"
    assert to_json(events.streams["a1"][1].event.data)["reason"] == "gõ nhầm"
    assert activity.version == 2
    assert activity.pending == []


async def test_a_stale_version_is_a_conflict_naming_the_stream_and_saves_nothing(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    await recorded(uow)
    await commands.void_activity(uow, COORDINATOR, "a1", 1, "ghi trùng")
    with pytest.raises(ConcurrencyConflict) as stale:
        await commands.correct_activity(uow, COORDINATOR, "a1", 1, BICYCLES, "sửa")
    assert (stale.value.stream_id, stale.value.expected_version) == ("a1", 1)
    assert stale.value.actual_version == 2
    assert len(events.streams["a1"]) == 2


async def test_a_writer_in_between_makes_the_save_a_conflict(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    """The version check at the append itself, when no If-Match was sent."""
    await recorded(uow)
    activity = await uow.activities.load("a1")
    assert activity is not None
    other = Activity.from_events(await events.load("a1"))
    other.void("bên kia hủy trước")
    events.written("a1", *other.pending, province="60", key=other.partition_key)

    activity.void("ghi trùng")
    with pytest.raises(ConcurrencyConflict, match="'a1' is at version 2"):
        await uow.activities.save(activity)


async def test_a_void_twice_is_refused_and_someone_elses_activity_is_not_found(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    await recorded(uow)
    await commands.void_activity(uow, COORDINATOR, "a1", None, "ghi trùng")
    with pytest.raises(RuleViolation, match="void"):
        await commands.void_activity(uow, COORDINATOR, "a1", None, "lần nữa")
    with pytest.raises(NotFound):
        await commands.void_activity(uow, COORDINATOR, "a-none", None, "không có")
    assert len(events.streams["a1"]) == 2


# -- locked periods -------------------------------------------------------------------------
async def test_a_locked_quarter_refuses_records_and_corrections_until_unlocked(
    uow: ActivitiesUnit, events: InMemoryEvents, reads: FakeReads
) -> None:
    await recorded(uow)
    await commands.lock_period(uow, COORDINATOR, "60", Q3_2024)
    assert reads.held[-1] == ("60", True)  # exclusive: no record slips in meanwhile

    with pytest.raises(PeriodLocked, match="q3-2024"):
        await recorded(uow, "a2")
    with pytest.raises(PeriodLocked):
        await commands.void_activity(uow, COORDINATOR, "a1", None, "hủy")
    assert "a2" not in events.streams
    assert len(events.streams["a1"]) == 1

    await commands.unlock_period(uow, COORDINATOR, "60", "q3-2024", "Bổ sung", "Ban Dân vận")
    await recorded(uow, "a2")
    assert events.types(locks_stream("60")) == [
        "vn.ketnghia.period.locked.v1",
        "vn.ketnghia.period.unlocked.v1",
    ]
    assert events.streams[locks_stream("60")][0].partition_key == "province:60"


async def test_only_the_coordinator_locks_and_a_lock_id_is_used_once(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    with pytest.raises(Forbidden):
        await commands.lock_period(uow, BHXH_CLERK, "60", Q3_2024)
    await commands.lock_period(uow, COORDINATOR, "60", Q3_2024)
    with pytest.raises(RuleViolation, match="already used") as again:
        await commands.lock_period(uow, COORDINATOR, "60", replace(Q3_2024, quarter=4))
    assert again.value.field == "id"
    assert len(events.streams[locks_stream("60")]) == 1


# -- plans ----------------------------------------------------------------------------------
async def test_a_plan_is_made_once_and_its_commitments_added_on_the_version_read(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    stream = plan_stream(ASSIGNMENT.id, 2025)
    await commands.create_plan(uow, COORDINATOR, ASSIGNMENT.id, 2025, [])
    with pytest.raises(AlreadyExists):
        await commands.create_plan(uow, COORDINATOR, ASSIGNMENT.id, 2025, [])

    cameras = Commitment("cameras", "Quý 2/2025: lắp camera an ninh", quarter=2)
    await commands.add_commitment(uow, COORDINATOR, ASSIGNMENT.id, 2025, 1, cameras)
    with pytest.raises(ConcurrencyConflict) as stale:
        await commands.add_commitment(uow, COORDINATOR, ASSIGNMENT.id, 2025, 1, cameras)
    assert stale.value.stream_id == stream
    assert events.types(stream) == [
        "vn.ketnghia.plan.created.v1",
        "vn.ketnghia.plan.commitment_added.v1",
    ]
    assert {saved.partition_key for saved in events.streams[stream]} == {
        f"assignment:{ASSIGNMENT.id}"
    }


async def test_a_plan_outside_the_period_or_of_an_unknown_assignment_is_refused(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    with pytest.raises(RuleViolation) as outside:
        await commands.create_plan(uow, COORDINATOR, ASSIGNMENT.id, 2027, [])
    with pytest.raises(RuleViolation) as unknown:
        await commands.add_commitment(uow, COORDINATOR, "assignment-x", 2025, None,
                                      Commitment("c", "c"))  # fmt: skip
    with pytest.raises(NotFound):
        await commands.add_commitment(uow, COORDINATOR, ASSIGNMENT.id, 2025, None,
                                      Commitment("c", "c"))  # fmt: skip
    assert (outside.value.field, unknown.value.field) == ("year", "assignment_id")
    assert events.streams == {}


# -- the unit of work -----------------------------------------------------------------------
async def test_a_handler_inside_an_open_unit_joins_its_transaction(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    """As an idempotent request or an import chunk runs it: the outer block decides."""
    with pytest.raises(RuntimeError):
        async with uow:
            await recorded(uow, "a1")
            assert events.commits == 0
            raise RuntimeError("the answer could not be kept")
    assert events.streams == {}
    assert events.rollbacks == 1

    async with uow:
        await recorded(uow, "a1")
        await recorded(uow, "a2", replace(BICYCLES, description="16 xe đạp"))
    assert events.commits == 1
    assert set(events.streams) == {"a1", "a2"}


async def test_many_activities_are_saved_in_one_append(
    uow: ActivitiesUnit, events: InMemoryEvents
) -> None:
    """An import's chunk: one append (on PostgreSQL, one COPY)."""
    appends = []
    append = events.append

    async def counted(streams: Sequence[Decided]) -> None:
        appends.append(len(streams))
        await append(streams)

    events.append = counted  # type: ignore[method-assign]
    items = [NewActivity(f"a{n}", replace(BICYCLES, value_vnd=n, contributions=(
        Contribution(SO_CONG_THUONG, n),))) for n in range(1, 4)]  # fmt: skip
    async with uow:
        checked = await commands.check_activities(uow.reads, items, COORDINATOR)
        await commands.record_checked(uow, items, checked.provinces)
    assert appends == [3]
    assert [saved.stream_id for saved in events.all_events()] == ["a1", "a2", "a3"]
