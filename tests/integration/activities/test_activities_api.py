"""The activities service on real PostgreSQL and Kafka, knowing assignments only from the
registry's events: the rules, retries, corrections and voids, locked periods, plans."""

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.activities.config import Settings as ActivitiesSettings
from services.registry.demo import Tally
from shared.demo_cases import (
    BHXH,
    HOI_NONG_DAN_BT,
    SO_CONG_THUONG,
    demo_assignment_id,
    demo_unit_id,
)
from shared.tables import events
from tests.kafka_reading import read_records

DONG_GIANG = demo_assignment_id("60", "commune", "23074")
HAM_CAN = demo_assignment_id("60", "commune", "23116")
SO_CT = demo_unit_id("60", SO_CONG_THUONG)


def bicycles(**changes: Any) -> dict[str, Any]:
    return {
        "assignment_id": DONG_GIANG,
        "commune": {"edition": "pre-2025", "code": "23074"},
        "occurred_on": "2024-09-30",
        "category": "scholarship_school_equipment",
        "description": "15 xe đạp cho học sinh nghèo",
        "value_vnd": 21_750_000,
        "sponsor_unit_id": SO_CT,
        "quantity": {"amount": 15, "unit": "chiếc"},
        "beneficiaries": [{"count": 15, "kind": "pupils", "group": "poor"}],
        **changes,
    }


async def event_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(events)) or 0)


def violation(response: httpx.Response) -> tuple[list[str], str]:
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    return error["loc"], error["msg"]


async def test_a_recorded_activity_is_an_event_keyed_by_its_commune(
    activities: httpx.AsyncClient,
    activities_settings: ActivitiesSettings,
    demo: Tally,
) -> None:
    correlation = str(uuid.uuid4())
    response = await activities.post(
        "/activities", json=bicycles(), headers={"X-Correlation-ID": correlation}
    )
    assert response.status_code == 201, response.text
    activity = response.json()

    read = (await activities.get(f"/activities/{activity['id']}")).json()
    records = await read_records(activities_settings.kafka, activities_settings.activities_topic, 1)

    assert {k: v for k, v in read.items() if k != "history"} == activity  # as answered

    [mine] = [r for r in records if dict(r.headers)["ce_subject"] == activity["id"].encode()]
    assert mine.key == b"commune:pre-2025:23074"
    assert dict(mine.headers)["ce_type"] == b"vn.ketnghia.activity.recorded.v1"
    assert dict(mine.headers)["ce_correlationid"] == correlation.encode()
    data = json.loads(mine.value)
    assert data["value_vnd"] == 21_750_000
    assert data["contributions"] == [{"sponsor_unit_id": SO_CT, "value_vnd": 21_750_000}]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"assignment_id": str(uuid.uuid4())}, ["assignment_id"], "not (yet) heard"),
        ({"sponsor_unit_id": demo_unit_id("60", HOI_NONG_DAN_BT)}, ["contributions", "0",
          "sponsor_unit_id"], "not a member"),
        ({"occurred_on": "2026-01-10"}, ["occurred_on"], "outside the programme period"),
        ({"occurred_on": "2024-09-29"}, ["contributions", "0", "sponsor_unit_id"], "not a member"),
        ({"value_vnd": -5}, ["value_vnd"], "negative"),
        ({"commune": {"edition": "pre-2025", "code": "23116"}}, ["commune_code"], "not a target"),
        ({"category": "lottery"}, ["category"], "unknown category"),
        ({"quantity": {"amount": 3, "unit": "thùng"}}, ["quantity", "unit"], "unknown unit"),
    ],
    ids=["unknown assignment", "unit not assigned", "outside period", "before joining",
         "negative value", "other commune", "unknown category", "unknown unit"],
)  # fmt: skip
async def test_activities_that_break_a_rule_are_refused_and_record_nothing(
    activities: httpx.AsyncClient,
    activities_engine: AsyncEngine,
    demo: Tally,
    change: dict[str, Any],
    field: list[str],
    reason: str,
) -> None:
    before = await event_count(activities_engine)
    response = await activities.post("/activities", json=bicycles(**change))
    loc, message = violation(response)
    assert loc[1:] == field
    assert reason in message
    assert await event_count(activities_engine) == before


async def test_co_funded_shares_must_add_up(activities: httpx.AsyncClient, demo: Tally) -> None:
    shares = [
        {"sponsor_unit_id": SO_CT, "value_vnd": 10_000_000},
        {"sponsor_unit_id": demo_unit_id("60", BHXH), "value_vnd": 10_000_000},
    ]
    body = {k: v for k, v in bicycles(contributions=shares).items() if k != "sponsor_unit_id"}
    wrong = await activities.post("/activities", json=body)
    right = await activities.post("/activities", json={**body, "value_vnd": 20_000_000})
    assert "add up" in violation(wrong)[1]
    assert right.status_code == 201, right.text


async def test_a_retried_request_records_nothing_new(
    activities: httpx.AsyncClient, activities_engine: AsyncEngine, demo: Tally
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await activities.post("/activities", json=bicycles(), headers=key)
    stored = await event_count(activities_engine)
    retried = await activities.post("/activities", json=bicycles(), headers=key)
    racing = await asyncio.gather(
        *(activities.post("/activities", json=bicycles(), headers=key) for _ in range(3))
    )
    other_body = await activities.post("/activities", json=bicycles(value_vnd=1), headers=key)

    assert first.status_code == retried.status_code == 201
    assert retried.json() == first.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert {r.json()["id"] for r in racing} == {first.json()["id"]}
    assert await event_count(activities_engine) == stored
    assert violation(other_body)[0] == ["header", "Idempotency-Key"]


async def test_corrections_and_voids_are_new_events_and_the_history_reads_back(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    created = await activities.post("/activities", json=bicycles())
    activity = created.json()["id"]
    corrected = await activities.post(
        f"/activities/{activity}/corrections",
        json={**bicycles(value_vnd=22_500_000), "reason": "Hóa đơn ghi 22,5 triệu"},
        headers={"If-Match": created.headers["ETag"]},
    )
    stale = await activities.post(
        f"/activities/{activity}/void",
        json={"reason": "ghi trùng"},
        headers={"If-Match": created.headers["ETag"]},
    )
    voided = await activities.post(f"/activities/{activity}/void", json={"reason": "ghi trùng"})
    read = (await activities.get(f"/activities/{activity}")).json()
    listed = (await activities.get("/activities", params={"assignment_id": DONG_GIANG})).json()

    assert corrected.json()["value_vnd"] == 22_500_000
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert voided.json()["voided"] is True
    assert [h["type"].rsplit(".", 2)[1] for h in read["history"]] == [
        "recorded",
        "corrected",
        "voided",
    ]
    assert read["history"][1]["data"]["reason"] == "Hóa đơn ghi 22,5 triệu"
    assert activity not in {a["id"] for a in listed}  # a void no longer counts


async def test_a_locked_period_refuses_records_and_corrections_until_unlocked(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    before_lock = await activities.post("/activities", json=bicycles(occurred_on="2024-11-05"))
    lock = {"year": 2024, "quarter": 4, "reason": "Đã báo cáo quý 4/2024", "by": "Ban Dân vận"}
    locked = await activities.post("/provinces/60/locks", json=lock)
    lock_id = locked.json()["id"]

    refused = await activities.post("/activities", json=bicycles(occurred_on="2024-12-01"))
    correction = await activities.post(
        f"/activities/{before_lock.json()['id']}/corrections",
        json={**bicycles(occurred_on="2024-11-05", value_vnd=1), "reason": "sửa"},
    )
    other_quarter = await activities.post("/activities", json=bicycles(occurred_on="2025-01-20"))
    unlocked = await activities.post(
        f"/provinces/60/locks/{lock_id}/unlock",
        json={"reason": "Bổ sung số liệu còn thiếu", "by": "Ban Dân vận"},
    )
    after = await activities.post("/activities", json=bicycles(occurred_on="2024-12-01"))
    history = (await activities.get("/provinces/60/locks")).json()

    assert locked.status_code == 201, locked.text
    assert locked.json()["active"] is True
    assert locked.json()["reason"] == "Đã báo cáo quý 4/2024"
    assert refused.status_code == 409
    assert "quý 4/2024" in refused.json()["detail"]
    assert correction.status_code == 409
    assert other_quarter.status_code == 201
    assert unlocked.json()["active"] is False
    assert unlocked.json()["unlock_reason"] == "Bổ sung số liệu còn thiếu"
    assert lock_id in [lock["id"] for lock in history if not lock["active"]]  # kept
    [kept] = [lock for lock in history if lock["id"] == lock_id]
    assert (kept["locked_by"], kept["unlocked_by"]) == ("Ban Dân vận", "Ban Dân vận")
    assert kept["locked_at"] <= kept["unlocked_at"]
    assert after.status_code == 201


async def test_two_provinces_may_name_a_lock_alike_and_an_id_is_not_reused(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    lock = {"id": "q1-2099", "year": 2099, "quarter": 1, "reason": "Đã báo cáo"}

    in_60 = await activities.post("/provinces/60/locks", json=lock)
    in_11 = await activities.post("/provinces/11/locks", json=lock)
    unlocked = await activities.post(
        "/provinces/60/locks/q1-2099/unlock", json={"reason": "Mở lại để bổ sung"}
    )
    again = await activities.post("/provinces/60/locks", json=lock)

    assert (in_60.status_code, in_11.status_code) == (201, 201), in_11.text
    assert in_60.json()["locked_by"] == "ketnghia-operations"  # the signed-in caller
    assert unlocked.status_code == 200
    assert violation(again)[0] == ["body", "id"]


async def test_plan_versus_actual_shows_what_an_activity_fulfilled(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    plan = await activities.post(
        f"/assignments/{DONG_GIANG}/plans",
        json={
            "year": 2025,
            "commitments": [
                {"id": "tet", "description": "Quý 1/2025: quà Tết", "category": "gifts_in_kind",
                 "quarter": 1},
                {"id": "cameras", "description": "Quý 2/2025: lắp camera an ninh",
                 "category": "infrastructure_camera", "quarter": 2},
            ],
        },
    )  # fmt: skip
    cameras = await activities.post(
        "/activities",
        json=bicycles(
            occurred_on="2025-05-20",
            category="infrastructure_camera",
            description="Lắp 4 camera an ninh",
            value_vnd=30_000_000,
            sponsor_unit_id=demo_unit_id("60", BHXH),
            quantity={"amount": 4, "unit": "chiếc"},
            beneficiaries=[],
            commitment_id="cameras",
        ),
    )
    wrong_year = await activities.post(
        "/activities",
        json=bicycles(commitment_id="cameras"),  # dated 2024
    )
    actual = (await activities.get(f"/assignments/{DONG_GIANG}/plans/2025")).json()

    assert plan.status_code == 201, plan.text
    assert cameras.status_code == 201, cameras.text
    assert violation(wrong_year)[0] == ["body", "commitment_id"]
    fulfilled = {c["id"]: c["fulfilled"] for c in actual["commitments"]}
    assert fulfilled == {"tet": False, "cameras": True}


async def test_an_activity_is_recorded_by_the_names_a_clerk_knows(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    by_name = {
        **bicycles(occurred_on="2024-10-20"),
        "sponsor_unit": "so cong thuong tinh binh thuan",
    }
    del by_name["assignment_id"], by_name["sponsor_unit_id"]

    recorded = await activities.post("/activities", json=by_name)
    unknown = await activities.post("/activities", json={**by_name, "sponsor_unit": "Sở Không Có"})
    not_helping = await activities.post(
        "/activities", json={**by_name, "sponsor_unit": HOI_NONG_DAN_BT}
    )
    both = await activities.post("/activities", json={**by_name, "sponsor_unit_id": SO_CT})

    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["assignment_id"] == DONG_GIANG
    assert recorded.json()["contributions"] == [{"sponsor_unit_id": SO_CT, "value_vnd": 21_750_000}]
    assert violation(unknown)[0] == ["body", "sponsor_unit"]
    where, why = violation(not_helping)
    assert where == ["body", "assignment_id"]
    assert DONG_GIANG in why  # the commune's assignments that day are listed
    assert violation(both)[0] == ["body", "sponsor_unit"]


async def test_a_plan_is_opened_empty_and_filled_in_later(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    opened = await activities.post(f"/assignments/{HAM_CAN}/plans", json={"year": 2025})
    shown = await activities.get(f"/assignments/{HAM_CAN}/plans/2025")
    added = await activities.post(
        f"/assignments/{HAM_CAN}/plans/2025/commitments",
        json={"id": "giong", "description": "Quý 3/2025: giống thanh long", "quarter": 3},
    )
    again = await activities.post(f"/assignments/{HAM_CAN}/plans", json={"year": 2025})

    assert opened.status_code == 201, opened.text
    assert opened.json()["commitments"] == []
    assert shown.status_code == 200
    assert shown.json()["commitments"] == []
    assert added.status_code == 201, added.text
    assert [c["id"] for c in added.json()["commitments"]] == ["giong"]
    assert again.status_code == 409
    listed = (await activities.get(f"/assignments/{HAM_CAN}/plans")).json()
    assert {"year": 2025, "commitments": 1, "planned_value_vnd": None} in listed


async def test_after_the_reform_an_activity_is_recorded_at_the_new_commune(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    loans = {
        "assignment_id": HAM_CAN,
        "commune": {"edition": "2025", "code": "23122"},  # xã Hàm Thạnh, Lâm Đồng
        "occurred_on": "2025-08-12",
        "category": "credit_loan",
        "description": "Cho vay vốn nuôi bò",
        "value_vnd": 50_000_000,
        "sponsor_unit_id": demo_unit_id("60", HOI_NONG_DAN_BT),
        "funding_source": "credit",
        "beneficiaries": [{"count": 2, "kind": "households", "group": "poor"}],
    }
    response = await activities.post("/activities", json=loans)
    assert response.status_code == 201, response.text
    assert response.json()["commune"] == {"edition": "2025", "code": "23122"}


async def test_a_refusal_names_the_unit_as_well_as_its_id(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    outsider = demo_unit_id("60", HOI_NONG_DAN_BT)  # helps Hàm Cần, not Đông Giang

    refused = await activities.post("/activities", json=bicycles(sponsor_unit_id=outsider))

    where, why = violation(refused)
    assert where == ["body", "contributions", "0", "sponsor_unit_id"]
    assert f"«{HOI_NONG_DAN_BT}» ({outsider})" in why
