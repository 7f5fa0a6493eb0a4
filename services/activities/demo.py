"""`python -m services.activities.demo [URL]`: the published activities of
`../shared/product.md`, recorded through the activities service's public API, after the
registry's demo has recorded the cases they belong to (`shared.demo_cases`).

- Đông Giang (through the API): at the signing on 30/9/2024, 15 bicycles worth 21,750,000
  VND for poor pupils and gifts for 10 policy families; the 2025 plan (Tết gifts in Q1,
  security cameras in Q2, cultural and sport exchanges, trainings).
- Hàm Cần (through an import file, `hoat-dong-ham-can-2024.csv` beside this module): the
  2024 loans of 200,000,000 VND to 7 households, the pigeon-raising training, the road
  survey, the cooperative advice, the gifts; the yearly commitment of a household economic
  project.
- Quảng Nam (through the API): Agribank's green-skin pomelo for 616 households of xã Lăng,
  3,710 pomelo and 300 guava trees, 39 breeding cows worth 757 million VND, 100 black pigs.

The reports give the year, not always the day or the value: the days inside the year are
the demo's, and a value not published is recorded as 0 with the description saying so.
Ids are derived from the facts and writes carry an Idempotency-Key, so a second run
records nothing new.
"""

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_attempt, wait_fixed

from shared.demo_cases import AGRIBANK_QN, SO_CONG_THUONG, demo_assignment_id, demo_unit_id
from shared.editions import PRE_2025

DEMO = uuid.UUID("7f0e9a8c-1d1b-4a56-b0f4-6b2d8e3c9a17")
IMPORT_FILE = Path(__file__).with_name("hoat-dong-ham-can-2024.csv")
DONG_GIANG = demo_assignment_id("60", "commune", "23074")
HAM_CAN = demo_assignment_id("60", "commune", "23116")


def activity(province: str, commune: str, unit: str, day: str, **facts: Any) -> dict[str, Any]:
    """The unit's activity in a commune, under the registry demo's assignment of the
    commune; its id is derived from its facts."""
    body = {
        "assignment_id": demo_assignment_id(province, "commune", commune),
        "commune": {"edition": PRE_2025, "code": commune},
        "occurred_on": day,
        "sponsor_unit_id": demo_unit_id(province, unit),
        **facts,
    }
    return {"id": str(uuid.uuid5(DEMO, repr(sorted(body.items())))), **body}


def at_dong_giang_signing(**facts: Any) -> dict[str, Any]:
    """Given by Sở Công Thương at the signing in xã Đông Giang, 30/9/2024."""
    return activity("60", "23074", SO_CONG_THUONG, "2024-09-30", **facts)


def lang_stock(day: str, **facts: Any) -> dict[str, Any]:
    """Agribank Quảng Nam's seedlings and breeding stock for xã Lăng."""
    return activity("49", "20449", AGRIBANK_QN, day, category="breeding_stock_seedlings", **facts)


ACTIVITIES = [
    at_dong_giang_signing(
        category="scholarship_school_equipment",
        description="Tặng 15 xe đạp cho học sinh nghèo tại lễ ký kết kết nghĩa",
        value_vnd=21_750_000, quantity={"amount": 15, "unit": "chiếc"},
        beneficiaries=[{"count": 15, "kind": "pupils", "group": "poor"}]),
    at_dong_giang_signing(
        category="gifts_in_kind",
        description="Tặng quà 10 gia đình chính sách (giá trị chưa công bố)",
        value_vnd=0, quantity={"amount": 10, "unit": "suất"},
        beneficiaries=[{"count": 10, "kind": "households", "group": "policy_families"}]),
    lang_stock("2021-06-15",
               description="Hỗ trợ giống bưởi da xanh cho 616 hộ (giá trị chưa công bố)",
               value_vnd=0, quantity={"amount": 3710, "unit": "cây"},
               beneficiaries=[{"count": 616, "kind": "households", "group": "ethnic_minority"}]),
    lang_stock("2021-06-15", description="Hỗ trợ 300 cây ổi giống (giá trị chưa công bố)",
               value_vnd=0, quantity={"amount": 300, "unit": "cây"}),
    lang_stock("2021-09-10", description="Hỗ trợ 39 con bò giống sinh sản",
               value_vnd=757_000_000, quantity={"amount": 39, "unit": "con"}),
    lang_stock("2021-11-20", description="Hỗ trợ hơn 100 con lợn đen giống (giá trị chưa công bố)",
               value_vnd=0, quantity={"amount": 100, "unit": "con"}),
]  # fmt: skip

PLANS = [
    (
        DONG_GIANG,
        2025,
        [
            {"id": "tet", "description": "Quý 1/2025: tặng quà Tết", "category": "gifts_in_kind",
             "quarter": 1},
            {"id": "camera", "description": "Quý 2/2025: lắp camera an ninh",
             "category": "infrastructure_camera", "quarter": 2},
            {"id": "giao-luu", "description": "Giao lưu văn hóa, thể thao",
             "category": "culture_sport_exchange"},
            {"id": "tap-huan", "description": "Tập huấn cho người dân",
             "category": "training_technology_transfer"},
        ],
    ),
    *(
        (HAM_CAN, year, [{"id": "ho-kinh-te", "category": "credit_loan",
                          "description": "Mỗi năm ít nhất một mô hình kinh tế hộ bền vững"}])
        for year in (2024, 2025)
    ),
]  # fmt: skip


NOT_HEARD_TRIES, NOT_HEARD_PAUSE = 60, 0.5  # about 30 s for the registry's events to arrive


def _not_yet_heard(response: httpx.Response) -> bool:
    return response.status_code == 422 and "not (yet) heard" in response.text


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], key: str) -> int:
    """POST, waiting while the service has not yet heard of the registry's assignment."""
    waiting = AsyncRetrying(
        retry=retry_if_result(_not_yet_heard),
        wait=wait_fixed(NOT_HEARD_PAUSE),
        stop=stop_after_attempt(NOT_HEARD_TRIES),
    )
    try:
        response: httpx.Response = await waiting(
            client.post, path, json=body, headers={"Idempotency-Key": key}
        )
    except RetryError as error:
        raise RuntimeError("the activities service has not heard of the registry's demo") from error
    if response.status_code in (200, 201):
        return 1 if "Idempotent-Replayed" not in response.headers else 0
    if response.status_code == 409:  # already there
        return 0
    raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")


async def import_and_wait(
    client: httpx.AsyncClient, province: str, name: str, content: bytes, poll: float = 0.1
) -> dict[str, Any]:
    """POST the sheet to `/imports` and follow the import (202, `Location`) to its end;
    its result, or a RuntimeError when it failed."""
    started = await client.post(
        "/imports", params={"province": province}, files={"file": (name, content)}
    )
    if started.status_code != 202:
        raise RuntimeError(f"POST /imports: {started.status_code} {started.text[:500]}")

    async def state() -> dict[str, Any]:
        answer: dict[str, Any] = (await client.get(started.headers["Location"])).json()
        return answer

    following = AsyncRetrying(
        retry=retry_if_result(lambda answer: answer["status"] == "running"), wait=wait_fixed(poll)
    )
    answer: dict[str, Any] = await following(state)
    if answer["status"] == "failed":
        raise RuntimeError(f"import {answer['import_id']} failed: {answer['failure']}")
    return answer


async def load_demo(client: httpx.AsyncClient) -> dict[str, Any]:
    recorded = 0
    for assignment, year, commitments in PLANS:
        body = {"year": year, "commitments": commitments}
        recorded += await _post(
            client, f"/assignments/{assignment}/plans", body, f"demo-plan-{assignment}-{year}"
        )
    for body in ACTIVITIES:
        recorded += await _post(client, "/activities", body, f"demo-{body['id']}")
    report = await import_and_wait(client, "60", IMPORT_FILE.name, IMPORT_FILE.read_bytes())
    if report["errors"]:
        raise RuntimeError(f"the demo import file has errors: {report['errors']}")
    return {"recorded": recorded, "imported": report}


async def main(url: str, token: str | None = None) -> None:
    """Load through the service at `url`, signed in with `token` (a bearer token)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
        outcome = await load_demo(client)
    imported = outcome["imported"]
    print(
        f"hoạt động mẫu: {outcome['recorded']} bản ghi mới qua API; tệp nhập "
        f"{IMPORT_FILE.name}: {imported['summary']}"
    )
    print(f"  {url}/activities?commune_code=23074  (xã Đông Giang)")
    print(f"  {url}/assignments/{HAM_CAN}/plans/2024  (kế hoạch và thực hiện, xã Hàm Cần)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8002"))
