"""The assignment aggregate's rules, on the published Bình Thuận cases."""

from datetime import date

import pytest

from services.registry.domain.admin_units import Edition
from services.registry.domain.assignments import (
    Assignment,
    Membership,
    Target,
    TargetKind,
)
from services.registry.domain.programmes import LegalBasis, Period
from shared.contract import to_json
from shared.errors import RuleViolation

SO_CONG_THUONG = "unit-so-cong-thuong"
BHXH_TINH = "unit-bao-hiem-xa-hoi-tinh"
VP_DOAN_DBQH = "unit-vp-doan-dbqh-hdnd"
NOTICE_417 = LegalBasis("417-TB/TU", date(2024, 8, 5), "Tỉnh ủy Bình Thuận")
PERIOD = Period(2024, 2025)
DONG_GIANG = Target(TargetKind.COMMUNE, Edition.PRE_2025, "23074")
HAM_CAN = Target(TargetKind.COMMUNE, Edition.PRE_2025, "23116")
SIGNED = date(2024, 9, 30)


def dong_giang(leads: dict[int, str] | None = None) -> Assignment:
    return Assignment.create(
        "assignment-dong-giang",
        "programme-bt-2024",
        PERIOD,
        "60",
        DONG_GIANG,
        NOTICE_417,
        [Membership(unit, SIGNED) for unit in (SO_CONG_THUONG, BHXH_TINH, VP_DOAN_DBQH)],
        leads if leads is not None else {2024: SO_CONG_THUONG, 2025: BHXH_TINH},
    )


def test_creation_records_one_event_with_members_and_the_lead_rotation() -> None:
    assignment = dong_giang()
    [created] = assignment.pending
    assert created.type == "vn.ketnghia.registry.assignment.created.v1"
    data = to_json(created.data)
    assert data["leads"] == {"2024": SO_CONG_THUONG, "2025": BHXH_TINH}
    assert [m["sponsor_unit_id"] for m in data["members"]] == [
        SO_CONG_THUONG,
        BHXH_TINH,
        VP_DOAN_DBQH,
    ]
    assert assignment.lead_of(2024) == SO_CONG_THUONG
    assert assignment.lead_of(2025) == BHXH_TINH
    assert assignment.version == 1


def test_the_lead_of_a_year_must_be_a_member_that_year() -> None:
    with pytest.raises(RuleViolation, match="not a member") as violation:
        dong_giang({2024: SO_CONG_THUONG, 2025: "unit-not-assigned"})
    assert violation.value.field == "leads.2025"


def test_a_lead_year_outside_the_period_is_refused() -> None:
    assignment = dong_giang()
    with pytest.raises(RuleViolation, match="outside the programme period") as violation:
        assignment.assign_lead(2026, BHXH_TINH)
    assert violation.value.field == "leads.2026"
    assert len(assignment.pending) == 1, "nothing recorded"


def test_joining_outside_the_period_is_refused() -> None:
    assignment = dong_giang()
    with pytest.raises(RuleViolation) as violation:
        assignment.join(Membership("unit-late", date(2026, 1, 5)))
    assert violation.value.field == "joined_on"


def test_a_unit_cannot_be_listed_twice() -> None:
    with pytest.raises(RuleViolation, match="listed twice"):
        Assignment.create(
            "a",
            "p",
            PERIOD,
            "60",
            DONG_GIANG,
            NOTICE_417,
            [Membership(SO_CONG_THUONG, SIGNED), Membership(SO_CONG_THUONG, SIGNED)],
            {},
        )


def test_a_unit_leading_a_later_year_cannot_leave_until_the_lead_is_handed_over() -> None:
    assignment = dong_giang()
    with pytest.raises(RuleViolation, match="hand the lead over first"):
        assignment.leave(BHXH_TINH, date(2024, 12, 31))

    assignment.assign_lead(2025, VP_DOAN_DBQH)
    assignment.leave(BHXH_TINH, date(2024, 12, 31))

    assert assignment.members[BHXH_TINH].left_on == date(2024, 12, 31)
    assert not assignment.members[BHXH_TINH].active_in(2025)
    with pytest.raises(RuleViolation, match="not a member that year"):
        assignment.assign_lead(2025, BHXH_TINH)


def test_a_merged_commune_continues_on_its_successor_keeping_the_old_one() -> None:
    ham_can = Assignment.create(
        "assignment-ham-can",
        "programme-bt-2024",
        PERIOD,
        "60",
        HAM_CAN,
        NOTICE_417,
        [
            Membership(u, date(2024, 9, 19))
            for u in ("unit-hoi-nong-dan", "unit-vksnd", "unit-nhnn")
        ],
        {2024: "unit-hoi-nong-dan"},
    )
    ham_thanh = Target(TargetKind.COMMUNE, Edition.FROM_2025, "23122")

    ham_can.continue_on(ham_thanh, "sáp nhập 01/7/2025")

    assert ham_can.target == ham_thanh
    assert ham_can.former_targets == [HAM_CAN]
    with pytest.raises(RuleViolation):
        ham_can.continue_on(Target(TargetKind.COMMUNE, Edition.FROM_2025, "23123"), "again")


def test_rebuilding_from_the_recorded_events_gives_the_same_assignment() -> None:
    assignment = dong_giang()
    assignment.assign_lead(2025, VP_DOAN_DBQH)
    assignment.join(Membership("unit-doan-thanh-nien", date(2025, 3, 1)))
    assignment.leave(BHXH_TINH, date(2025, 6, 30))
    assignment.continue_on(Target(TargetKind.COMMUNE, Edition.FROM_2025, "23074"), "2025")

    rebuilt = Assignment.from_events(assignment.pending)

    assert rebuilt.members == assignment.members
    assert rebuilt.leads == assignment.leads
    assert rebuilt.target == assignment.target
    assert rebuilt.former_targets == assignment.former_targets
    assert rebuilt.version == assignment.version == 5
    assert rebuilt.pending == []


@pytest.mark.parametrize("number", ["2072/QĐ-UBND", "417-TB/TU", "12-KH/BDVTU"])
def test_published_document_numbers_are_accepted(number: str) -> None:
    assert LegalBasis(number, date(2021, 11, 17), "UBND tỉnh Điện Biên").number == number


@pytest.mark.parametrize("number", ["", "QĐ-UBND", "2072", "2072 QĐ UBND", "2072/qđ-ubnd"])
def test_malformed_document_numbers_are_refused_with_the_field(number: str) -> None:
    with pytest.raises(RuleViolation) as violation:
        LegalBasis(number, date(2021, 11, 17), "UBND tỉnh Điện Biên")
    assert violation.value.field == "legal_basis.number"


def test_a_backwards_period_is_refused() -> None:
    with pytest.raises(RuleViolation, match="run forwards"):
        Period(2025, 2021)


def test_an_ended_assignment_takes_no_more_changes_and_keeps_its_history() -> None:
    assignment = dong_giang()
    assignment.end(date(2025, 6, 30), "Thay thế bởi quyết định mới")

    assert not assignment.active
    with pytest.raises(RuleViolation, match="has ended") as violation:
        assignment.assign_lead(2025, VP_DOAN_DBQH)
    assert violation.value.field == "assignment"
    assert Assignment.from_events(assignment.pending).ended_on == date(2025, 6, 30)


def test_leaving_before_joining_or_after_the_period_is_refused() -> None:
    assignment = dong_giang({2024: SO_CONG_THUONG})
    with pytest.raises(RuleViolation, match="before joining"):
        assignment.leave(VP_DOAN_DBQH, date(2024, 9, 1))
    with pytest.raises(RuleViolation, match="outside") as violation:
        assignment.leave(VP_DOAN_DBQH, date(2026, 2, 1))
    assert violation.value.field == "left_on"


def test_members_on_a_day_follow_their_dates() -> None:
    assignment = dong_giang()
    assignment.join(Membership("unit-late", date(2025, 3, 1), date(2025, 5, 31)))
    assert "unit-late" not in assignment.members_on(date(2025, 2, 28))
    assert "unit-late" in assignment.members_on(date(2025, 3, 1))
    assert "unit-late" not in assignment.members_on(date(2025, 6, 1))


def test_events_of_an_assignment_keep_the_key_of_the_commune_as_recorded() -> None:
    assignment = dong_giang()
    assignment.continue_on(Target(TargetKind.COMMUNE, Edition.FROM_2025, "23074"), "2025")
    assert assignment.recorded_target.partition_key == "commune:pre-2025:23074"
    assert assignment.target.partition_key == "commune:2025:23074"


def test_a_district_target_exists_only_before_the_reform() -> None:
    with pytest.raises(RuleViolation, match="districts ended"):
        Target(TargetKind.DISTRICT, Edition.FROM_2025, "510")
    with pytest.raises(RuleViolation):
        Target(TargetKind.VILLAGE, Edition.PRE_2025, "23116")  # a village needs its id


NAM_GIANG = Target(
    TargetKind.DISTRICT, Edition.PRE_2025, "510", name="Huyện Nam Giang",
    communes=("20665", "20668"),
)  # fmt: skip


DISTRICT_PERIOD = Period(2024, 2026)


def nam_giang(period: Period = DISTRICT_PERIOD) -> Assignment:
    members = [Membership(SO_CONG_THUONG, date(2024, 1, 1)),
               Membership(BHXH_TINH, date(2024, 1, 1), date(2025, 3, 1))]  # fmt: skip
    return Assignment.create(
        "a-nam-giang", "p-1", period, "49", NAM_GIANG, None, members,
        {2024: BHXH_TINH, 2025: SO_CONG_THUONG},
    )  # fmt: skip


def test_a_district_ends_with_june_2025_and_takes_no_member_or_lead_after() -> None:
    district = nam_giang()
    assert district.ends_on == date(2025, 6, 30)
    assert to_json(district.pending[0].data)["target"]["communes"] == ["20665", "20668"]
    with pytest.raises(RuleViolation, match="30 June 2025"):
        district.join(Membership(VP_DOAN_DBQH, date(2025, 7, 1)))
    with pytest.raises(RuleViolation, match="2026"):
        district.assign_lead(2026, SO_CONG_THUONG)
    district.join(Membership(VP_DOAN_DBQH, date(2025, 6, 30)))  # the last day still counts


def test_a_district_continues_on_2025_communes_with_the_members_of_30_june() -> None:
    district = nam_giang()
    continued = district.continue_on_communes(["20551", "20557"], "Sắp xếp 01/7/2025")
    assert district.ended_on == date(2025, 6, 30)
    assert [a.target.code for a in continued] == ["20551", "20557"]
    first = continued[0]
    assert to_json(first.pending[0].data)["continues"] == "a-nam-giang"
    assert list(first.members) == [SO_CONG_THUONG]  # BHXH left in March
    assert first.members[SO_CONG_THUONG].joined_on == date(2025, 7, 1)
    assert first.leads == {2025: SO_CONG_THUONG}
    assert continued[1].id != first.id
    again = nam_giang().continue_on_communes(["20551"], "Sắp xếp 01/7/2025")[0]
    assert again.id == first.id  # a retry names the same assignment


def test_only_a_district_assignment_continues_on_communes_and_not_twice() -> None:
    with pytest.raises(RuleViolation, match="district"):
        dong_giang().continue_on_communes(["23122"], "x")
    with pytest.raises(RuleViolation, match="twice"):
        nam_giang().continue_on_communes(["20551", "20551"], "x")
    ended_2024 = Assignment.create(
        "a-2024", "p-0", Period(2021, 2024), "49", NAM_GIANG, None,
        [Membership(SO_CONG_THUONG, date(2021, 1, 1))], {},
    )  # fmt: skip
    with pytest.raises(RuleViolation, match="before the reform"):
        ended_2024.continue_on_communes(["20551"], "x")


def test_every_kind_of_sponsor_unit_has_its_vietnamese_label() -> None:
    from services.registry.domain.sponsor_units import SponsorUnitKind
    from shared.catalogue import SPONSOR_UNIT_KINDS

    assert set(SPONSOR_UNIT_KINDS) == {kind.value for kind in SponsorUnitKind}
