"""What the domains decide fits the published contract, and what does not fit is poison."""

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from services.activities.domain.activities import Activity
from services.activities.domain.locks import Lock, ProvinceLocks
from services.activities.domain.plans import Commitment, Plan
from services.registry.domain.admin_units import Edition
from services.registry.domain.assignments import Target, TargetKind
from shared.consumer import Poison
from shared.contract import CONTRACT, Event, check, to_json
from tests.unit.activities.test_activities import BICYCLES
from tests.unit.registry.test_assignments import dong_giang


def decided_events() -> list[Event]:
    assignment = dong_giang()
    assignment.assign_lead(2025, "unit-vp-doan-dbqh-hdnd")
    assignment.continue_on(Target(TargetKind.COMMUNE, Edition.FROM_2025, "23074"), "2025")
    assignment.end(date(2025, 12, 31), "Hết giai đoạn")
    activity = Activity.record("a1", "60", BICYCLES)
    activity.correct(replace(BICYCLES, description="15 xe đạp mới"), "sửa")
    activity.void("trùng")
    plan = Plan.create("a", 2025, "60", [Commitment("camera", "Lắp camera", None, 2)])
    plan.add(Commitment("tet", "Quà Tết", "gifts_in_kind", 1))
    locks = ProvinceLocks("60")
    locks.lock(Lock("q1", 2025, 1, None, "Đã báo cáo", "Ban Dân vận"))
    locks.unlock("q1", "Bổ sung", "Ban Dân vận")
    return assignment.pending + activity.pending + plan.pending + locks.pending


def test_every_event_the_domains_decide_fits_its_contract() -> None:
    decided = decided_events()
    for event in decided:
        check(event.type, to_json(event.data))
    assert len({event.type for event in decided}) == 11
    assert {event.type for event in decided} <= set(CONTRACT)


def test_an_unknown_type_or_bad_data_is_poison() -> None:
    with pytest.raises(Poison, match="unknown event type"):
        check("vn.ketnghia.activity.deleted.v1", {})
    data = to_json(Activity.record("a1", "60", BICYCLES).pending[0].data)
    with pytest.raises(Poison, match="value_vnd"):
        check("vn.ketnghia.activity.recorded.v1", {**data, "value_vnd": -1})


OTHER_EVENTS = {  # the registry's types the domain test above does not decide
    "vn.ketnghia.registry.sponsor_unit.registered.v1": {
        "sponsor_unit_id": "u1", "province": "60", "name": "Sở Công Thương", "kind": "department",
    },
    "vn.ketnghia.registry.programme.created.v1": {
        "programme_id": "p1", "province": "11", "name": "Kết nghĩa", "scope": "commune",
        "period": {"start_year": 2021, "end_year": 2025},
        "legal_bases": [{"number": "2072/QĐ-UBND", "issued_on": "2021-09-20", "issuer": "UBND"}],
    },
    "vn.ketnghia.registry.programme.legal_basis_added.v1": {
        "programme_id": "p1",
        "legal_basis": {"number": "417-TB/TU", "issued_on": "2021-10-01", "issuer": "Tỉnh ủy"},
    },
    "vn.ketnghia.registry.village.registered.v1": {
        "village_id": "v1", "province": "60", "kind": "village", "name": "Thôn 1",
        "commune": {"edition": "pre-2025", "code": "23074"},
    },
    "vn.ketnghia.registry.commune.classified.v1": {
        "province": "60", "commune": {"edition": "pre-2025", "code": "23074"},
        "kind": "poor_household_rate", "value": "12.5", "effective_on": "2024-01-01",
        "source": "QĐ 1/2024",
    },
    "vn.ketnghia.registry.lineage.published.v1": {
        "dataset": "vietnamadminunits-1.0.4", "old": {"edition": "pre-2025", "code": "23116"},
        "old_name": "Xã Hàm Cần", "old_province_code": "60",
        "successors": [{"code": "23122", "name": "Xã Hàm Thạnh", "province_code": "68",
                        "share": "whole", "is_default": True}],
    },
    "vn.ketnghia.registry.assignment.member_joined.v1": {
        "sponsor_unit_id": "u2", "joined_on": "2024-02-01",
    },
    "vn.ketnghia.registry.assignment.member_left.v1": {
        "sponsor_unit_id": "u2", "left_on": "2024-12-31",
    },
}  # fmt: skip
WRONG: list[Any] = [
    None,
    {},
    [],
    "",
    "x",
    "12",
    -1,
    0,
    1.5,
    True,
    "2024-13-45",
    [{}],
    10**15 + 1,
    2**63,
    "x" * 3000,
    ["x" * 600],
    ["23074"] * 300,
    40_000,
    "60\n",
]
"""Of the wrong values, the last six are past a bound (`shared.bounds`)."""


def variants(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`data` with each field, and each field of a nested object, missing or wrong."""
    for name, value in data.items():
        yield {k: v for k, v in data.items() if k != name}
        for wrong in WRONG:
            yield {**data, name: wrong}
        if isinstance(value, dict):
            for inner in variants(value):
                yield {**data, name: inner}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in variants(value[0]):
                yield {**data, name: [inner, *value[1:]]}


def test_the_check_accepts_and_refuses_what_the_models_do_strictly_as_json() -> None:
    """The check consumers run is generated from the models; it must agree with them
    validating the JSON strictly (as the published JSON Schemas do: `true` is not an
    integer, `0` is not a date), on every event type and thousands of broken variants."""
    seeds = [(e.type, to_json(e.data)) for e in decided_events()] + list(OTHER_EVENTS.items())
    assert {event_type for event_type, _data in seeds} == set(CONTRACT)
    tried, disagreements = 0, []
    for event_type, seed in seeds:
        valid = json.loads(json.dumps(seed, default=str))
        for data in [valid, *variants(valid)]:
            try:
                CONTRACT[event_type].model_validate_json(json.dumps(data), strict=True)
                accepted = True
            except ValidationError:
                accepted = False
            try:
                check(event_type, data)
                checked = True
            except Poison:
                checked = False
            tried += 1
            if accepted != checked:
                disagreements.append((event_type, data, accepted))
    assert tried > 2_000
    assert disagreements == []


def test_the_bounds_hold_in_the_contract_and_its_check() -> None:
    recorded = next(e for e in decided_events() if e.type.endswith("activity.recorded.v1"))
    data = to_json(recorded.data)
    too_much = {**data, "value_vnd": 10**15 + 1,
                "contributions": [{"sponsor_unit_id": "u1", "value_vnd": 10**15 + 1}]}  # fmt: skip
    at_the_limit = {**data, "value_vnd": 10**15,
                    "contributions": [{"sponsor_unit_id": "u1", "value_vnd": 10**15}]}  # fmt: skip
    many = {**data, "beneficiaries": [{"count": 2**31, "kind": "persons", "group": "poor"}]}

    check(recorded.type, at_the_limit)
    for refused in (too_much, many, {**data, "evidence": ["x" * 501]}):
        with pytest.raises(Poison):
            check(recorded.type, refused)


@pytest.mark.parametrize("code", ["٢٣٠٧٤", "２３０７４", "23O74", "230745"])
def test_a_commune_code_is_two_to_five_ascii_digits(code: str) -> None:
    """Other scripts' digits are digits to Python's `\\d`, not to the JSON Schemas others
    read: both the model and the consumers' check refuse them."""
    [event] = Activity.record("a1", "60", BICYCLES).pending
    data = {**to_json(event.data), "commune": {"edition": "pre-2025", "code": code}}
    with pytest.raises(Poison, match=r"commune\.code"):
        check(event.type, data)
    with pytest.raises(ValidationError):
        CONTRACT[event.type].model_validate(data)
