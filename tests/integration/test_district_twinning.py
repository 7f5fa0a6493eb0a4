"""District twinning (huyện kết nghĩa huyện) from the registry through the activities
service to the reports: activities at the district's communes, the district's report and
its line in the province summary, and the end on 30 June 2025 unless the assignment is
continued on named 2025 communes."""

from typing import Any

import httpx

from services.registry.adapters.admin_dataset import AdminDataset
from shared.consistency import HEADER

PROVINCE, DISTRICT = "49", "510"  # Quảng Nam, huyện Nam Giang


def _district(dataset: AdminDataset) -> tuple[list[str], str, str]:
    """The district's communes, a 2025 commune that took over one of them, and a 2025
    commune of the same new province that took over none."""
    mine = sorted(
        u.code
        for u in dataset.units
        if u.edition == "pre-2025" and u.level == "commune" and u.parent_code == DISTRICT
    )
    took_over = {s.new_code for s in dataset.successions if s.old_code in mine}
    others = {s.new_code for s in dataset.successions if s.old_code not in mine}
    heir = sorted(took_over)[0]
    province = {u.code: u.province_code for u in dataset.units if u.edition == "2025"}
    stranger = sorted(c for c in others - took_over if province.get(c) == province[heir])[0]
    return mine, heir, stranger


def _activity(assignment: str, unit: str, edition: str, code: str, day: str) -> dict[str, Any]:
    return {
        "assignment_id": assignment, "commune": {"edition": edition, "code": code},
        "occurred_on": day, "category": "infrastructure_road", "description": "Sửa đường liên thôn",
        "value_vnd": 30_000_000, "sponsor_unit_id": unit,
    }  # fmt: skip


async def test_a_district_is_helped_through_its_communes_until_june_2025_then_continued(
    registry: httpx.AsyncClient,
    activities: httpx.AsyncClient,
    reporting: httpx.AsyncClient,
    loaded: None,
    dataset: AdminDataset,
) -> None:
    communes, heir, stranger = _district(dataset)
    unit = (await registry.post("/sponsor-units", json={
        "province": PROVINCE, "name": "UBND huyện Điện Bàn (thử)", "kind": "local_government",
    })).json()["id"]  # fmt: skip
    programme = (await registry.post("/programmes", json={
        "province": PROVINCE, "name": "Huyện đồng bằng kết nghĩa huyện miền núi (thử)",
        "start_year": 2024, "end_year": 2026,
    })).json()["id"]  # fmt: skip
    made = await registry.post("/assignments", json={
        "programme_id": programme, "target": {"kind": "district", "edition": "pre-2025",
                                               "code": DISTRICT},
        "members": [{"sponsor_unit_id": unit, "joined_on": "2024-01-01"}],
        "leads": {"2024": unit},
    })  # fmt: skip
    assert made.status_code == 201, made.text
    district = made.json()
    assert district["ends_on"] == "2025-06-30"  # districts ended with June 2025
    history = (await registry.get(f"/assignments/{district['id']}/history")).json()
    assert history[0]["data"]["target"]["name"] == "Huyện Nam Giang"
    assert sorted(history[0]["data"]["target"]["communes"]) == communes
    version = {"If-Match": made.headers["ETag"]}

    # after the reform a district takes no new member and has no lead
    late = await registry.post(
        f"/assignments/{district['id']}/members",
        headers=version,
        json={"sponsor_unit_id": unit, "joined_on": "2025-08-01"},
    )
    assert late.status_code == 422
    assert "30 June 2025" in late.text
    lead = await registry.put(f"/assignments/{district['id']}/leads/2026", headers=version,
                              json={"sponsor_unit_id": unit})  # fmt: skip
    assert lead.status_code == 422
    assert "2026" in lead.text

    # activities at the district's communes, before the reform
    token = {HEADER: made.headers[HEADER]}
    first = await activities.post("/activities", headers=token,
                                  json=_activity(district["id"], unit, "pre-2025", communes[0],
                                                 "2024-05-10"))  # fmt: skip
    assert first.status_code == 201, first.text
    second = await activities.post("/activities",
                                   json=_activity(district["id"], unit, "pre-2025", communes[1],
                                                  "2025-03-02"))  # fmt: skip
    assert second.status_code == 201, second.text
    outside = await activities.post("/activities",
                                    json=_activity(district["id"], unit, "pre-2025", "20449",
                                                   "2024-06-01"))  # fmt: skip
    assert outside.status_code == 422, outside.text  # xã Lăng is not Nam Giang's
    assert "«Xã Lăng» (20449)" in outside.text  # named, as are the assignment's communes
    first_name = next(u.name for u in dataset.units
                      if u.edition == "pre-2025" and u.code == communes[0])  # fmt: skip
    assert f"«{first_name}» ({communes[0]})" in outside.text
    after = await activities.post("/activities",
                                  json=_activity(district["id"], unit, "pre-2025", communes[0],
                                                 "2025-08-01"))  # fmt: skip
    assert after.status_code == 422
    assert "2025" in after.text

    # the district's report and its line in the province summary
    read = {HEADER: second.headers[HEADER]}
    path = f"/reports/provinces/{PROVINCE}/districts/{DISTRICT}"
    report = (await reporting.get(path, headers=read, params={"programme_id": programme})).json()
    assert report["district"]["name"] == "Huyện Nam Giang"
    assert report["totals"] == {"value_vnd": 60_000_000, "activities": 2}
    assert [c["code"] for c in report["by_commune"]] == sorted(communes[:2])
    assert report["assignments"] == [{"assignment_id": district["id"], "ends_on": "2025-06-30"}]
    summary = (await reporting.get(f"/reports/provinces/{PROVINCE}/summary",
                                   params={"programme_id": programme})).json()  # fmt: skip
    assert summary["by_district"] == [{"code": DISTRICT, "name": "Huyện Nam Giang",
                                       "value_vnd": 60_000_000, "activities": 2}]  # fmt: skip
    assert summary["districts"] == 1
    sheet = await reporting.get(f"/reports/provinces/{PROVINCE}/districts/{DISTRICT}",
                                params={"programme_id": programme, "format": "csv"})  # fmt: skip
    assert "Theo xã (nơi ghi nhận)" in sheet.text
    mapped = await reporting.get(f"/reports/provinces/{PROVINCE}/districts/{DISTRICT}",
                                 params={"mapped": "true"})  # fmt: skip
    assert mapped.status_code == 422
    assert "30 June 2025" in mapped.text

    # continued on a 2025 commune that took over part of the district; never on another
    wrong = await registry.post(f"/assignments/{district['id']}/continuation", headers=version,
                                json={"communes": [heir, stranger]})  # fmt: skip
    assert wrong.status_code == 422, wrong.text
    assert stranger in wrong.text, wrong.text
    continued = await registry.post(f"/assignments/{district['id']}/continuation",
                                    headers=version, json={"communes": [heir]})  # fmt: skip
    assert continued.status_code == 201, continued.text
    ended = continued.json()
    assert ended["ended_on"] == "2025-06-30"
    assert len(ended["continued_by"]) == 1
    [new_id] = ended["continued_by"]
    carried = (await registry.get(f"/assignments/{new_id}")).json()
    assert carried["continues"] == district["id"]
    assert [(t["edition"], t["code"]) for t in carried["targets"]] == [("2025", heir)]
    assert [(m["sponsor_unit_id"], m["joined_on"]) for m in carried["members"]] == [
        (unit, "2025-07-01")
    ]
    again = await registry.post(f"/assignments/{district['id']}/continuation",
                                json={"communes": [heir]})  # fmt: skip
    assert again.status_code == 422  # the district's assignment has ended
    on_heir = await activities.post(
        "/activities",
        headers={HEADER: continued.headers[HEADER]},
        json=_activity(new_id, unit, "2025", heir, "2025-08-01"),
    )
    assert on_heir.status_code == 201, on_heir.text
