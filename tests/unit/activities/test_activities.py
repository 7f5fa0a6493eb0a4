"""The activity's rules, plans and locks, on the published Đông Giang and Hàm Cần cases."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.activities.domain.activities import (
    Activity,
    Beneficiaries,
    Contribution,
    Facts,
    Quantity,
)
from services.activities.domain.assignments import KnownAssignment, Membership
from services.activities.domain.locks import Lock, PeriodLocked, ProvinceLocks
from services.activities.domain.plans import Commitment, Plan
from shared.contract import to_json
from shared.errors import RuleViolation

SO_CONG_THUONG = "unit-so-cong-thuong"
BHXH = "unit-bhxh"
DONG_GIANG = ("pre-2025", "23074")
BICYCLES = Facts(
    assignment_id="assignment-dong-giang",
    commune_edition="pre-2025",
    commune_code="23074",
    occurred_on=date(2024, 9, 30),
    category="scholarship_school_equipment",
    description="15 xe đạp cho học sinh nghèo",
    value_vnd=21_750_000,
    contributions=(Contribution(SO_CONG_THUONG, 21_750_000),),
    quantity=Quantity(amount=Decimal(15), unit="chiếc"),
    beneficiaries=(Beneficiaries(15, "pupils", "poor"),),
)
ASSIGNMENT = KnownAssignment(
    "assignment-dong-giang",
    "60",
    2024,
    2025,
    frozenset({DONG_GIANG, ("2025", "23074")}),
    (
        Membership(SO_CONG_THUONG, date(2024, 9, 30), None),
        Membership(BHXH, date(2024, 9, 30), None),
    ),
)


def test_recording_an_activity_is_one_event_keyed_by_the_commune() -> None:
    activity = Activity.record("a1", "60", BICYCLES)
    [event] = activity.pending
    assert event.type == "vn.ketnghia.activity.recorded.v1"
    assert to_json(event.data)["value_vnd"] == 21_750_000
    assert to_json(event.data)["quantity"] == {"amount": "15", "unit": "chiếc"}
    assert BICYCLES.partition_key == "commune:pre-2025:23074"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value_vnd": -1, "contributions": (Contribution(SO_CONG_THUONG, -1),)}, "value_vnd"),
        ({"category": "lottery"}, "category"),
        ({"description": " "}, "description"),
        ({"quantity": Quantity(Decimal(3), "thùng")}, "quantity.unit"),
        ({"contributions": (Contribution(SO_CONG_THUONG, 1_000),)}, "contributions"),
        ({"beneficiaries": (Beneficiaries(0, "pupils", "poor"),)}, "beneficiaries.0.count"),
    ],
)
def test_bad_facts_are_refused_with_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(RuleViolation) as violation:
        replace(BICYCLES, **change)  # type: ignore[arg-type]
    assert violation.value.field == field


def test_co_funded_shares_must_add_up_to_the_value() -> None:
    shared = replace(
        BICYCLES,
        contributions=(Contribution(SO_CONG_THUONG, 10_000_000), Contribution(BHXH, 11_750_000)),
    )
    assert shared.sponsor_unit_ids == [SO_CONG_THUONG, BHXH]
    with pytest.raises(RuleViolation, match="add up"):
        replace(shared, value_vnd=30_000_000)


def test_a_correction_supersedes_and_a_void_ends_and_the_history_rebuilds() -> None:
    activity = Activity.record("a1", "60", BICYCLES)
    activity.correct(replace(BICYCLES, description="15 xe đạp (đã sửa)"), "gõ nhầm")
    activity.void("ghi trùng")

    rebuilt = Activity.from_events(activity.pending)
    assert rebuilt.voided
    assert rebuilt.version == 3
    assert rebuilt.facts.description == "15 xe đạp (đã sửa)"
    with pytest.raises(RuleViolation, match="void"):
        activity.correct(BICYCLES, "again")


def test_a_correction_keeps_the_commune() -> None:
    activity = Activity.record("a1", "60", BICYCLES)
    with pytest.raises(RuleViolation, match="keeps the commune"):
        activity.correct(replace(BICYCLES, commune_code="23116"), "sai xã")


def test_the_unit_must_be_a_member_on_the_day_and_the_day_in_the_period() -> None:
    ASSIGNMENT.check(BICYCLES)
    with pytest.raises(RuleViolation, match="not a member") as outsider:
        ASSIGNMENT.check(replace(BICYCLES, contributions=(Contribution("unit-other", 21_750_000),)))
    assert outsider.value.field == "contributions.0.sponsor_unit_id"
    with pytest.raises(RuleViolation, match="period"):
        ASSIGNMENT.check(replace(BICYCLES, occurred_on=date(2026, 1, 2)))
    with pytest.raises(RuleViolation, match="not a member"):
        ASSIGNMENT.check(replace(BICYCLES, occurred_on=date(2024, 9, 29)))  # before signing
    with pytest.raises(RuleViolation, match="not a target"):
        ASSIGNMENT.check(replace(BICYCLES, commune_code="23116"))


def test_each_edition_of_a_commune_takes_only_days_on_its_side_of_the_reform() -> None:
    ASSIGNMENT.check(replace(BICYCLES, occurred_on=date(2025, 6, 30)))
    ASSIGNMENT.check(replace(BICYCLES, commune_edition="2025", occurred_on=date(2025, 7, 1)))
    with pytest.raises(RuleViolation, match="không còn từ 01/7/2025") as old_after:
        ASSIGNMENT.check(replace(BICYCLES, occurred_on=date(2025, 7, 1)))
    with pytest.raises(RuleViolation, match="chỉ có từ 01/7/2025") as new_before:
        ASSIGNMENT.check(replace(BICYCLES, commune_edition="2025", occurred_on=date(2025, 6, 30)))
    not_continued = replace(ASSIGNMENT, communes=frozenset({DONG_GIANG}))
    with pytest.raises(RuleViolation, match="succession"):
        not_continued.check(replace(BICYCLES, occurred_on=date(2025, 8, 1)))

    assert old_after.value.field == new_before.value.field == "commune_code"
    assert "23074 (2025)" in str(old_after.value)  # the commune it became
    assert "23074 (trước 2025)" in str(new_before.value)  # the commune it came from


def test_a_locked_quarter_refuses_its_days_until_unlocked() -> None:
    locks = ProvinceLocks("60")
    locks.lock(Lock("q3-2024", 2024, 3, None, "Đã báo cáo quý 3", "Ban Dân vận"))

    with pytest.raises(PeriodLocked, match="quý 3/2024"):
        locks.check(DONG_GIANG, date(2024, 9, 30))
    locks.check(DONG_GIANG, date(2024, 10, 1))  # Q4 is open

    locks.unlock("q3-2024", "Bổ sung số liệu", "Ban Dân vận")
    locks.check(DONG_GIANG, date(2024, 9, 30))
    assert [e.type.rsplit(".", 2)[1] for e in locks.pending] == ["locked", "unlocked"]


def test_a_commune_lock_leaves_other_communes_open() -> None:
    locks = ProvinceLocks("60")
    locks.lock(Lock("dg-2024", 2024, None, DONG_GIANG, "Chốt số liệu", "UBND xã"))
    with pytest.raises(PeriodLocked):
        locks.check(DONG_GIANG, date(2024, 12, 31))
    locks.check(("pre-2025", "23116"), date(2024, 12, 31))


def test_a_plan_holds_its_commitments_once() -> None:
    cameras = Commitment("cameras", "Quý 2/2025: lắp camera an ninh", "infrastructure_camera", 2)
    plan = Plan.create("assignment-dong-giang", 2025, "60", [cameras])
    with pytest.raises(RuleViolation, match="already"):
        plan.add(cameras)
    with pytest.raises(RuleViolation, match="1-4"):
        plan.add(Commitment("q5", "Quý 5", None, 5))
    assert Plan.from_events(plan.pending).commitments == {"cameras": cameras}
