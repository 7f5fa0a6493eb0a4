"""The registry over HTTP on real PostgreSQL and Kafka: the published cases, the rules,
concurrency, the events on the topic, and a rebuild of the read models."""

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.adapters.tables import READ_MODELS
from services.registry.config import Settings
from services.registry.demo import Tally, load_demo
from services.registry.service_layer.projection import rebuild
from shared.demo_cases import (
    DIEN_BIEN_BODIES,
    DIEN_BIEN_DONG_COMMUNES,
    demo_assignment_id,
    demo_id,
    demo_unit_id,
)
from shared.tables import events
from tests.kafka_reading import read_records

BT = "60"  # Bình Thuận, before the reform


@pytest.fixture(scope="module")
async def demo(registry: httpx.AsyncClient) -> Tally:
    return await load_demo(registry)


def unit_id(province: str, name: str) -> str:
    return demo_id("unit", province, name)


async def new_programme(
    registry: httpx.AsyncClient, province: str = BT, years: tuple[int, int] = (2024, 2025)
) -> str:
    response = await registry.post(
        "/programmes",
        json={
            "province": province,
            "name": f"Chương trình thử {uuid.uuid4().hex[:6]}",
            "start_year": years[0],
            "end_year": years[1],
        },
    )
    assert response.status_code == 201, response.text
    programme_id: str = response.json()["id"]
    return programme_id


async def new_unit(registry: httpx.AsyncClient, province: str = BT) -> str:
    response = await registry.post(
        "/sponsor-units",
        json={"province": province, "name": f"Đơn vị {uuid.uuid4().hex[:6]}", "kind": "enterprise"},
    )
    assert response.status_code == 201, response.text
    unit: str = response.json()["id"]
    return unit


def assignment_body(
    programme_id: str, units: list[str], code: str = "23116", **changes: Any
) -> dict[str, Any]:
    return {
        "programme_id": programme_id,
        "target": {"kind": "commune", "edition": "pre-2025", "code": code},
        "members": [{"sponsor_unit_id": unit, "joined_on": "2024-09-19"} for unit in units],
        "leads": {"2024": units[0]},
        **changes,
    }


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    """Events stored, and rows in all read models: a refused command changes neither."""
    async with engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).select_from(events))
        rows = [await conn.scalar(select(func.count()).select_from(t)) for t in READ_MODELS]
    return int(stored or 0), sum(int(n or 0) for n in rows)


def violation(response: httpx.Response) -> tuple[list[str], str]:
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    return error["loc"], error["msg"]


# -- the published cases ------------------------------------------------------------------
async def test_dong_giang_is_helped_by_three_units_with_the_lead_rotating(
    registry: httpx.AsyncClient, demo: Tally
) -> None:
    in_2024 = (await registry.get("/communes/pre-2025/23074/helpers?on=2024-10-15")).json()
    in_2025 = (await registry.get("/communes/pre-2025/23074/helpers?on=2025-03-01")).json()

    [assignment] = in_2024["assignments"]
    units = {unit["name"]: unit["lead"] for unit in assignment["sponsor_units"]}
    assert units == {
        "Sở Công Thương tỉnh Bình Thuận": True,
        "Bảo hiểm xã hội tỉnh Bình Thuận": False,
        "Văn phòng Đoàn ĐBQH và HĐND tỉnh Bình Thuận": False,
    }
    [later] = in_2025["assignments"]
    assert [u["name"] for u in later["sponsor_units"] if u["lead"]] == [
        "Bảo hiểm xã hội tỉnh Bình Thuận"
    ]
    lead = (await registry.get(f"/assignments/{assignment['assignment_id']}/leads/2025")).json()
    assert lead["lead"]["name"] == "Bảo hiểm xã hội tỉnh Bình Thuận"


async def test_ham_can_continues_on_ham_thanh_and_keeps_its_history(
    registry: httpx.AsyncClient, demo: Tally
) -> None:
    before_signing = (await registry.get("/communes/pre-2025/23116/helpers?on=2024-09-18")).json()
    signed = (await registry.get("/communes/pre-2025/23116/helpers?on=2024-09-19")).json()
    after_reform = (await registry.get("/communes/2025/23122/helpers?on=2025-08-01")).json()

    # the demo's assignment (other tests may add assignments on Hàm Cần: not counted)
    ham_can = demo_assignment_id("60", "commune", "23116")
    assert ham_can not in {a["assignment_id"] for a in before_signing["assignments"]}
    [assignment] = [a for a in signed["assignments"] if a["assignment_id"] == ham_can]
    assert len(assignment["sponsor_units"]) == 3
    assert assignment["current_target"] is False  # it continued on Hàm Thạnh
    [continued] = [a for a in after_reform["assignments"] if a["assignment_id"] == ham_can]
    assert continued["assignment_id"] == assignment["assignment_id"]
    assert continued["current_target"] is True

    detail = (await registry.get(f"/assignments/{assignment['assignment_id']}")).json()
    assert [(t["edition"], t["code"], t["current"]) for t in detail["targets"]] == [
        ("pre-2025", "23116", False),
        ("2025", "23122", True),
    ]
    assert detail["legal_basis"]["number"] == "417-TB/TU"


@pytest.mark.parametrize(
    ("old_code", "new_code"),
    [("05257", "05245"), ("03211", "03214"), ("20704", "20704")],  # Mai Hịch, Chiềng Sơ, La Dêê
)
async def test_assignments_on_merged_communes_continue_on_their_successors(
    registry: httpx.AsyncClient, demo: Tally, old_code: str, new_code: str
) -> None:
    lineage = (await registry.get(f"/lineage/communes/{old_code}")).json()
    helped = (await registry.get(f"/communes/2025/{new_code}/helpers?on=2025-09-01")).json()

    assert [s["code"] for s in lineage["successors"]] == [new_code]
    recorded_on = [
        (await registry.get(f"/assignments/{a['assignment_id']}")).json()["targets"][0]
        for a in helped["assignments"]
    ]
    # Mường Luân's own assignment continues on the same new commune as Chiềng Sơ's.
    assert ("pre-2025", old_code) in {(t["edition"], t["code"]) for t in recorded_on}


async def test_dien_bien_dong_has_ten_bodies_under_decision_2072(
    registry: httpx.AsyncClient, demo: Tally
) -> None:
    [programme] = (await registry.get("/programmes", params={"province": "11"})).json()
    assignments = (await registry.get(f"/programmes/{programme['id']}/assignments")).json()
    units = (await registry.get("/sponsor-units", params={"province": "11"})).json()

    assert programme["legal_bases"][0]["number"] == "2072/QĐ-UBND"
    assert programme["legal_bases"][0]["issued_on"] == "2021-11-17"
    assert (programme["start_year"], programme["end_year"]) == (2021, 2025)
    # the decision's ten bodies and their ten assignments (other tests may add units and
    # assignments to the province: only the demo's are counted)
    bodies = {demo_unit_id("11", name) for name in DIEN_BIEN_BODIES}
    assert len(bodies) == 10
    assert bodies <= {unit["id"] for unit in units}
    theirs = {demo_assignment_id("11", "commune", code) for code in DIEN_BIEN_DONG_COMMUNES}
    assert len(theirs) == 10
    assert theirs <= {assignment["id"] for assignment in assignments}


async def test_tam_ky_twins_with_a_district_and_two_border_communes(
    registry: httpx.AsyncClient, demo: Tally
) -> None:
    tam_ky = unit_id("49", "UBND thành phố Tam Kỳ")
    targets = (await registry.get(f"/sponsor-units/{tam_ky}/targets")).json()
    border = (await registry.get("/communes/pre-2025/20698/classifications")).json()

    assert sorted((t["target_kind"], t["target_name"]) for t in targets) == [
        ("commune", "Xã La Dêê"),
        ("commune", "Xã La Êê"),
        ("district", "Huyện Nam Giang"),
    ]
    assert all(t["lead_years"] == [2021] for t in targets)
    assert [(c["kind"], c["value"]) for c in border] == [("land_border", True)]


async def test_loading_the_demo_again_records_nothing(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine, demo: Tally
) -> None:
    before = await counts(registry_engine)
    again = await load_demo(registry)
    assert demo.created > 0
    assert (again.created, again.continued) == (0, 0)
    assert again.present == demo.created
    assert await counts(registry_engine) == before


# -- the rules, each a 422 that names the field, with nothing written ----------------------
async def test_a_lead_who_is_not_a_member_that_year_is_refused(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine
) -> None:
    programme, member, outsider = (
        await new_programme(registry),
        await new_unit(registry),
        await new_unit(registry),
    )
    before = await counts(registry_engine)

    response = await registry.post(
        "/assignments",
        json=assignment_body(programme, [member], leads={"2024": member, "2025": outsider}),
    )

    loc, message = violation(response)
    assert loc == ["body", "leads", "2025"]
    assert "not a member that year" in message
    assert await counts(registry_engine) == before


def commune(code: str, edition: str = "pre-2025") -> dict[str, str]:
    return {"kind": "commune", "edition": edition, "code": code}


MALFORMED_BASIS = {"number": "QĐ 2072", "issued_on": "2024-08-05", "issuer": "Tỉnh ủy"}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"leads": {}, "members": [{"joined_on": "2026-01-05"}]}, ["joined_on"], "outside"),
        ({"target": commune("99999")}, ["target", "code"], "no commune"),
        ({"target": commune("03211")}, ["target", "code"], "province 11"),  # Điện Biên's
        ({"target": commune("23116", "2019")}, ["target", "edition"], "pre-2025"),
        ({"legal_basis": MALFORMED_BASIS}, ["legal_basis", "number"], "2072/QĐ-UBND"),
        ({"programme_id": "no-such-programme"}, ["programme_id"], "no programme"),
    ],
    ids=[
        "date outside period",
        "unknown commune",
        "other province",
        "unknown edition",
        "malformed legal basis",
        "unknown programme",
    ],
)
async def test_bad_assignments_are_refused_with_the_field_and_reason(
    registry: httpx.AsyncClient,
    registry_engine: AsyncEngine,
    change: dict[str, Any],
    field: list[str],
    reason: str,
) -> None:
    programme, unit = await new_programme(registry), await new_unit(registry)
    body = assignment_body(programme, [unit])
    for key, value in change.items():
        body[key] = [{**body[key][0], **value[0]}] if key == "members" else value
    before = await counts(registry_engine)

    response = await registry.post("/assignments", json=body)

    loc, message = violation(response)
    assert loc[1:] == field
    assert reason in message
    assert await counts(registry_engine) == before


async def test_a_second_active_assignment_of_a_target_is_refused_until_the_first_ends(
    registry: httpx.AsyncClient,
) -> None:
    programme, unit = await new_programme(registry), await new_unit(registry)
    first = await registry.post("/assignments", json=assignment_body(programme, [unit]))
    assert first.status_code == 201

    duplicate = await registry.post("/assignments", json=assignment_body(programme, [unit]))
    ended = await registry.post(
        f"/assignments/{first.json()['id']}/end",
        json={"ended_on": "2024-12-31", "reason": "Thay thế bởi quyết định mới"},
        headers={"If-Match": first.headers["ETag"]},
    )
    replacement = await registry.post("/assignments", json=assignment_body(programme, [unit]))

    loc, message = violation(duplicate)
    assert loc == ["body", "target"]
    assert "already has an active assignment" in message
    assert ended.status_code == 200
    assert replacement.status_code == 201


async def test_racing_creates_of_the_same_target_leave_exactly_one(
    registry: httpx.AsyncClient,
) -> None:
    programme, unit = await new_programme(registry), await new_unit(registry)
    responses = await asyncio.gather(
        *(registry.post("/assignments", json=assignment_body(programme, [unit])) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    listed = (await registry.get(f"/programmes/{programme}/assignments")).json()
    assert statuses == [201, 422, 422, 422]
    assert len(listed) == 1


async def test_a_retried_create_with_its_id_is_a_conflict_not_a_copy(
    registry: httpx.AsyncClient,
) -> None:
    body = {
        "id": str(uuid.uuid4()),
        "province": BT,
        "name": "Điện lực Bình Thuận",
        "kind": "enterprise",
    }
    first = await registry.post("/sponsor-units", json=body)
    retried = await registry.post("/sponsor-units", json=body)
    assert first.status_code == 201
    assert retried.status_code == 409
    assert body["id"] in retried.json()["detail"]


async def test_classifications_check_their_values(registry: httpx.AsyncClient) -> None:
    path = "/communes/pre-2025/23116/classifications"
    common = {"province": BT, "effective_on": "2024-01-01", "source": "UBND xã"}
    over = await registry.post(path, json={**common, "kind": "poor_near_poor_rate", "value": 120})
    not_flag = await registry.post(path, json={**common, "kind": "land_border", "value": 3})
    fine = await registry.post(path, json={**common, "kind": "new_rural_criteria_met", "value": 9})
    assert "0-100" in violation(over)[1]
    assert "true or false" in violation(not_flag)[1]
    assert fine.status_code == 201
    assert {"kind": "new_rural_criteria_met", "value": 9} in [
        {"kind": c["kind"], "value": c["value"]} for c in fine.json()
    ]


# -- concurrency and the reform ------------------------------------------------------------
async def test_a_change_on_a_stale_version_is_a_conflict_with_the_current_version(
    registry: httpx.AsyncClient,
) -> None:
    programme = await new_programme(registry)
    first, second = await new_unit(registry), await new_unit(registry)
    created = await registry.post("/assignments", json=assignment_body(programme, [first]))
    read_version = created.headers["ETag"]
    assignment = created.json()["id"]

    joined = await registry.post(
        f"/assignments/{assignment}/members",
        json={"sponsor_unit_id": second, "joined_on": "2025-01-01"},
        headers={"If-Match": read_version},
    )
    stale = await registry.put(
        f"/assignments/{assignment}/leads/2025",
        json={"sponsor_unit_id": first},
        headers={"If-Match": read_version},
    )

    assert joined.status_code == 200
    assert joined.headers["ETag"] == '"2"'
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert stale.headers["ETag"] == '"2"'
    lead = (await registry.get(f"/assignments/{assignment}/leads/2025")).json()
    assert lead["lead"] is None


async def test_a_split_commune_needs_the_successor_named(
    registry: httpx.AsyncClient, dataset: Any
) -> None:
    split = next(s for s in dataset.successions if s.share == "part")
    old = next(u for u in dataset.units if u.code == split.old_code and u.edition == "pre-2025")
    successors = {s.new_code for s in dataset.successions if s.old_code == split.old_code}
    programme = await new_programme(registry, province=old.province_code)
    unit = await new_unit(registry, province=old.province_code)
    created = await registry.post(
        "/assignments", json=assignment_body(programme, [unit], code=split.old_code)
    )
    path = f"/assignments/{created.json()['id']}/succession"

    unnamed = await registry.post(path, json={})
    wrong = await registry.post(path, json={"successor_code": "23122"})
    named = await registry.post(path, json={"successor_code": split.new_code})

    loc, message = violation(unnamed)
    assert loc == ["body", "successor_code"]
    assert all(code in message for code in successors)
    assert "not a successor" in violation(wrong)[1]
    assert named.status_code == 200
    assert named.json()["targets"][-1]["code"] == split.new_code


async def test_a_village_target_is_found_through_its_commune(registry: httpx.AsyncClient) -> None:
    village = await registry.post(
        "/communes/pre-2025/23116/villages",
        json={"province": BT, "kind": "thôn", "name": f"Thôn {uuid.uuid4().hex[:4]}"},
    )
    programme, unit = await new_programme(registry), await new_unit(registry)
    body = assignment_body(programme, [unit])
    body["target"] = {**body["target"], "kind": "village", "village_id": village.json()["id"]}

    created = await registry.post("/assignments", json=body)
    helped = (await registry.get("/communes/pre-2025/23116/helpers?on=2024-10-01")).json()

    assert created.status_code == 201, created.text
    [mine] = [a for a in helped["assignments"] if a["assignment_id"] == created.json()["id"]]
    assert mine["village_id"] == village.json()["id"]


# -- events on the topic, and the rebuild ---------------------------------------------------
async def test_every_change_is_an_event_on_the_topic_keyed_by_the_recorded_commune(
    registry: httpx.AsyncClient, registry_settings: Settings, registry_engine: AsyncEngine
) -> None:
    programme, unit = await new_programme(registry), await new_unit(registry)
    correlation = str(uuid.uuid4())
    created = await registry.post(
        "/assignments",
        json=assignment_body(programme, [unit]),
        headers={"X-Correlation-ID": correlation},
    )
    assignment = created.json()["id"]
    await registry.post(f"/assignments/{assignment}/succession", json={})
    stored, _ = await counts(registry_engine)

    records = await read_records(registry_settings.kafka, registry_settings.registry_topic, stored)

    mine = [r for r in records if dict(r.headers).get("ce_subject") == assignment.encode()]
    assert [dict(r.headers)["ce_type"] for r in mine] == [
        b"vn.ketnghia.registry.assignment.created.v1",
        b"vn.ketnghia.registry.assignment.target_succeeded.v1",
    ]
    assert {r.key for r in mine} == {b"commune:pre-2025:23116"}  # the key stays as recorded
    headers = dict(mine[0].headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_source"] == b"/ketnghia/registry"
    assert headers["ce_province"] == b"60"
    assert headers["ce_correlationid"] == correlation.encode()
    assert json.loads(mine[1].value)["to"]["code"] == "23122"


async def read_models(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as conn:
        return {
            table.name: sorted(
                (await conn.execute(select(table))).all(), key=lambda row: tuple(map(str, row))
            )
            for table in READ_MODELS
        }


async def test_rebuilding_the_read_models_from_the_event_store_gives_the_same_answers(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine, demo: Tally
) -> None:
    questions = [
        "/communes/pre-2025/23074/helpers?on=2025-03-01",
        "/communes/2025/23122/helpers?on=2025-08-01",
        f"/sponsor-units/{unit_id('49', 'UBND thành phố Tam Kỳ')}/targets",
        "/programmes?province=11",
        "/communes/pre-2025/23074/classifications",
    ]
    answers = [(await registry.get(q)).json() for q in questions]
    rows = await read_models(registry_engine)

    async with registry_engine.begin() as conn:
        replayed = await rebuild(conn)

    assert replayed == (await counts(registry_engine))[0]
    assert await read_models(registry_engine) == rows
    assert [(await registry.get(q)).json() for q in questions] == answers


async def test_a_unit_name_or_a_decision_number_is_registered_once_per_province(
    registry: httpx.AsyncClient,
) -> None:
    unit = {"province": BT, "name": "Công ty Cấp thoát nước Bình Thuận", "kind": "enterprise"}
    decision = {"number": "15/QĐ-UBND", "issued_on": "2024-01-15", "issuer": "UBND tỉnh"}
    programme = {"province": BT, "name": "Chương trình A", "start_year": 2024, "end_year": 2025,
                 "legal_bases": [decision]}  # fmt: skip

    first = await registry.post("/sponsor-units", json=unit)
    again = await registry.post(
        "/sponsor-units", json={**unit, "name": "  công ty cấp thoát nước  Bình Thuận"}
    )
    elsewhere = await registry.post("/sponsor-units", json={**unit, "province": "11"})
    made = await registry.post("/programmes", json=programme)
    twice = await registry.post(
        "/programmes", json={**programme, "name": "Chương trình B",
                             "legal_bases": [{**decision, "issuer": "Tỉnh ủy"}]},
    )  # fmt: skip

    assert first.status_code == 201
    assert again.status_code == 409
    assert first.json()["id"] in again.json()["detail"]
    assert elsewhere.status_code == 201  # another province may have its namesake
    assert made.status_code == 201
    assert twice.status_code == 409
    assert made.json()["id"] in twice.json()["detail"]


async def test_a_request_the_schema_refuses_says_why_in_both_languages_without_echoing_it(
    registry: httpx.AsyncClient,
) -> None:
    huge = "x" * 100_000
    refused = await registry.post("/programmes", json={
        "province": "6", "name": "Chương trình", "start_year": "năm sau", "end_year": 2025,
        "legal_bases": [{"number": huge, "issued_on": "2024-02-30", "issuer": "UBND tỉnh"}],
    })  # fmt: skip

    assert refused.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in refused.json()["detail"]}
    assert errors[("body", "start_year")].startswith("phải là số nguyên / ")
    assert errors[("body", "province")].startswith("không đúng dạng yêu cầu / ")
    assert errors[("body", "legal_bases", 0, "issued_on")].startswith("ngày không hợp lệ")
    assert all("input" not in e for e in refused.json()["detail"])
    assert len(refused.content) < 10_000  # the 100 kB field is not sent back


async def test_a_unit_of_another_province_is_refused_by_name(registry: httpx.AsyncClient) -> None:
    programme_id = await new_programme(registry)
    elsewhere = await new_unit(registry, province="11")
    name = (await registry.get(f"/sponsor-units/{elsewhere}")).json()["name"]

    refused = await registry.post("/assignments", json=assignment_body(programme_id, [elsewhere]))

    loc, why = violation(refused)
    assert loc == ["body", "members", "0"]
    assert f"«{name}» ({elsewhere}) thuộc tỉnh 11" in why
