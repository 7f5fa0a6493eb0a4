"""What the domains decide fits the published contract, and what does not fit is poison."""

from dataclasses import replace
from datetime import date

import pytest

from services.activities.domain.activities import Activity
from services.activities.domain.locks import Lock, ProvinceLocks
from services.activities.domain.plans import Commitment, Plan
from services.registry.domain.admin_units import Edition
from services.registry.domain.assignments import Target, TargetKind
from shared.consumer import Poison
from shared.contract import CONTRACT, check
from shared.events import Event
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
        check(event.type, event.data)
    assert len({event.type for event in decided}) == 11
    assert {event.type for event in decided} <= set(CONTRACT)


def test_an_unknown_type_or_bad_data_is_poison() -> None:
    with pytest.raises(Poison, match="unknown event type"):
        check("vn.ketnghia.activity.deleted.v1", {})
    data = Activity.record("a1", "60", BICYCLES).pending[0].data
    with pytest.raises(Poison, match="value_vnd"):
        check("vn.ketnghia.activity.recorded.v1", {**data, "value_vnd": -1})
