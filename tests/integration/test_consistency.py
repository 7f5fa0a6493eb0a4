"""Read-your-writes across services (`shared.consistency`): a write's `Consistency-Token`,
passed on to the activities service, makes it wait until it has heard of the write, so an
activity recorded right after a new assignment and its succession onto the 2025 commune
is never refused as "not heard of"."""

import time
import uuid
from collections import Counter

import httpx

from services.registry.adapters.admin_dataset import AdminDataset
from services.registry.config import Settings
from services.registry.demo import Tally
from shared.consistency import HEADER
from shared.demo_cases import HOI_NONG_DAN_BT, demo_unit_id

ROUNDS = 100


def single_successor_communes(dataset: AdminDataset, province: str, count: int) -> list[str]:
    """Old communes of `province` that went wholly into one 2025 commune."""
    successors = Counter(s.old_code for s in dataset.successions)
    mine = {u.code for u in dataset.units if u.edition == "pre-2025" and u.level == "commune"
            and u.province_code == province}  # fmt: skip
    whole = sorted(s.old_code for s in dataset.successions
                   if s.old_code in mine and successors[s.old_code] == 1)  # fmt: skip
    return whole[:count]


async def test_an_activity_recorded_right_after_a_succession_is_never_refused(
    registry: httpx.AsyncClient, activities: httpx.AsyncClient, demo: Tally, dataset: AdminDataset
) -> None:
    unit = demo_unit_id("60", HOI_NONG_DAN_BT)
    programme = await registry.post("/programmes", json={
        "province": "60", "name": "Chương trình đọc ngay sau khi ghi", "start_year": 2025,
        "end_year": 2026,
    })  # fmt: skip
    assert programme.status_code == 201, programme.text
    refused, waited = [], []
    for code in single_successor_communes(dataset, "60", ROUNDS):
        made = await registry.post("/assignments", json={
            "programme_id": programme.json()["id"],
            "target": {"kind": "commune", "edition": "pre-2025", "code": code},
            "members": [{"sponsor_unit_id": unit, "joined_on": "2025-01-01"}],
        })  # fmt: skip
        assert made.status_code == 201, made.text
        continued = await registry.post(
            f"/assignments/{made.json()['id']}/succession", json={},
            headers={"If-Match": made.headers["ETag"]},
        )  # fmt: skip
        assert continued.status_code == 200, continued.text
        token = continued.headers[HEADER]
        successor = continued.json()["targets"][-1]["code"]
        started = time.perf_counter()
        recorded = await activities.post("/activities", headers={HEADER: token}, json={
            "assignment_id": made.json()["id"], "commune": {"edition": "2025", "code": successor},
            "occurred_on": "2025-08-01", "category": "gifts_in_kind",
            "description": "Quà ngay sau khi chuyển sang xã mới", "value_vnd": 1_000_000,
            "sponsor_unit_id": unit,
        })  # fmt: skip
        waited.append(time.perf_counter() - started)
        if recorded.status_code != 201:
            refused.append(f"{code}: {recorded.status_code} {recorded.text[:200]}")

    waited.sort()
    print(f"\n{len(waited)} activities right after a new assignment and its succession: "
          f"{len(refused)} refused; answer p50 {waited[len(waited) // 2] * 1000:.0f} ms, "
          f"max {waited[-1] * 1000:.0f} ms")  # fmt: skip
    assert len(waited) == ROUNDS
    assert refused == []


async def test_a_token_names_its_topic_and_events_and_an_unknown_one_is_a_503(
    registry: httpx.AsyncClient, activities: httpx.AsyncClient, registry_settings: Settings
) -> None:
    unit = await registry.post(
        "/sponsor-units", json={"province": "60", "name": "Đơn vị thử token", "kind": "enterprise"}
    )
    topic = registry_settings.registry_topic
    never = f"{topic}:{uuid.uuid4()}"

    late = await activities.get("/catalogue", headers={HEADER: never})
    malformed = await activities.get("/catalogue", headers={HEADER: "not a token"})
    not_consumed = await activities.get("/catalogue", headers={HEADER: f"elsewhere:{uuid.uuid4()}"})

    assert unit.headers[HEADER].startswith(f"{topic}:")
    assert late.status_code == 503
    assert late.headers["Retry-After"] == "1"
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["header", HEADER]
    assert not_consumed.status_code == 200  # the activities service reads no such topic
