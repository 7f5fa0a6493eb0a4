"""The reports, from the registry's and the activities' events on real Kafka, projected
into PostgreSQL: the published figures, both editions, co-funding, corrections and voids,
as-of, duplicates, dead letters, exports."""

import asyncio
import base64
import csv
import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from openpyxl import load_workbook
from prometheus_client import REGISTRY
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from services import cli
from services.activities.demo import IMPORT_FILE
from services.reporting.adapters.tables import PROJECTIONS
from services.reporting.config import Settings as ReportingSettings
from services.reporting.service_layer.rebuild import consumer_names, rebuild
from shared.auth import Role
from shared.demo_cases import BHXH, SO_CONG_THUONG, demo_assignment_id, demo_unit_id
from shared.devstack.processes import free_port
from shared.devstack.signing import LocalIssuer, person
from shared.envelope import Envelope
from shared.eventstore import STORED_COLUMNS, StoredEvent
from shared.metrics import scraped
from shared.tables import events
from tests.integration.conftest import caught_up, eventually
from tests.kafka_reading import read_records

DONG_GIANG = demo_assignment_id("60", "commune", "23074")


async def test_dong_giang_2024_shows_the_15_bicycles(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    report = (await reporting.get("/reports/communes/pre-2025/23074", params={"year": 2024})).json()

    assert report["commune"]["name"] == "Xã Đông Giang"
    [school] = [c for c in report["by_category"] if c["category"] == "scholarship_school_equipment"]
    assert school == {"category": "scholarship_school_equipment",
                      "label": "Học bổng, đồ dùng học tập", "value_vnd": 21_750_000,
                      "activities": 1}  # fmt: skip
    quantities = [(q["category"], q["unit"], q["amount"]) for q in report["quantities"]]
    assert ("scholarship_school_equipment", "chiếc", "15") in quantities
    assert ("gifts_in_kind", "suất", "10") in quantities  # not 1E+1
    assert {"kind": "pupils", "group": "poor", "count": 15,
            "label": "Học sinh – Hộ nghèo"} in report["beneficiaries"]  # fmt: skip
    assert report["counted_up_to"]  # which offsets it counts


async def test_ham_can_shows_200_million_of_loans_to_7_households_in_both_editions(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    recorded = (await reporting.get("/reports/communes/pre-2025/23116")).json()
    mapped = (await reporting.get("/reports/communes/2025/23122", params={"mapped": "true"})).json()

    for report in (recorded, mapped):
        [loans] = [c for c in report["by_category"] if c["category"] == "credit_loan"]
        assert loans["value_vnd"] == 200_000_000
        assert ("households", "poor", 7) in {
            (b["kind"], b["group"], b["count"]) for b in report["beneficiaries"]
        }
    assert mapped["commune"]["name"] == "Xã Hàm Thạnh"
    assert mapped["totals"] == recorded["totals"]  # Hàm Cần went wholly into Hàm Thạnh


async def test_a_split_commune_is_reported_with_its_successors_not_divided(
    registry: httpx.AsyncClient,
    activities: httpx.AsyncClient,
    reporting: httpx.AsyncClient,
    dataset: Any,
    loaded: None,
) -> None:
    link = next(s for s in dataset.successions if s.share == "part")
    old = next(u for u in dataset.units if u.edition == "pre-2025" and u.code == link.old_code)
    successors = sorted(s.new_code for s in dataset.successions if s.old_code == old.code)
    new_units = {("2025", code) for code in successors}
    province = old.province_code
    unit = (
        await registry.post(
            "/sponsor-units",
            json={"province": province, "name": "Đơn vị thử xã bị chia", "kind": "enterprise"},
        )
    ).json()
    programme = (
        await registry.post(
            "/programmes",
            json={
                "province": province,
                "name": "Chương trình thử",
                "start_year": 2024,
                "end_year": 2025,
            },
        )
    ).json()
    assignment = (
        await registry.post(
            "/assignments",
            json={
                "programme_id": programme["id"],
                "target": {"kind": "commune", "edition": "pre-2025", "code": old.code},
                "members": [{"sponsor_unit_id": unit["id"], "joined_on": "2024-01-01"}],
            },
        )
    ).json()
    body = {"assignment_id": assignment["id"], "commune": {"edition": "pre-2025",
            "code": old.code}, "occurred_on": "2024-05-05", "category": "cash",
            "description": "Hỗ trợ tiền mặt", "value_vnd": 4_400_000,
            "sponsor_unit_id": unit["id"]}  # fmt: skip

    async def recorded() -> dict[str, Any] | None:
        response = await activities.post("/activities", json=body)
        return response.json() if response.status_code == 201 else None

    activity = await eventually(recorded)  # once the activities service heard of it
    assert activity, "the activities service did not hear of the assignment"
    await eventually(lambda: _has_at(reporting, old.code, activity["id"]))
    mapped = [
        (await reporting.get(f"/reports/communes/2025/{code}", params={"mapped": "true"})).json()
        for code in successors
    ]

    for report in mapped:  # the old commune's figures are not divided among its successors
        assert report["totals"]["value_vnd"] == 0
        [predecessor] = report["split_predecessors"]
        assert predecessor["old_code"] == old.code
        assert predecessor["value_vnd"] == 4_400_000
        assert sorted(predecessor["successors"]) == successors
    provinces = {u.province_code for u in dataset.units if (u.edition, u.code) in new_units}
    for today in provinces:  # nor is it counted in the provinces its successors lie in
        summary = (
            await reporting.get(f"/reports/provinces/{today}/summary", params={"mapped": "true"})
        ).json()
        assert [p["old_code"] for p in summary["split_predecessors"]] == [old.code]
        assert summary["split_predecessors"][0]["value_vnd"] == 4_400_000
        assert summary["totals"] == {"value_vnd": 0, "activities": 0}


async def test_mapped_onto_today_lam_dong_holds_what_binh_thuan_communes_received(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    recorded = (await reporting.get("/reports/provinces/60/summary", params={"year": 2024})).json()
    mapped = (
        await reporting.get("/reports/provinces/68/summary", params={"year": 2024, "mapped": True})
    ).json()

    assert mapped["scope"]["edition"] == "mapped to 2025"
    assert mapped["totals"] == recorded["totals"]  # Đông Giang and Hàm Cần are Lâm Đồng's now
    [loans] = [c for c in mapped["by_category"] if c["category"] == "credit_loan"]
    assert loans["value_vnd"] == 200_000_000
    assert mapped["communes"] == 2
    assert {r["target_name"] for r in mapped["lead_roster"]} == {"Xã Đông Giang", "Xã Hàm Thạnh"}
    assert mapped["split_predecessors"] == []


async def test_the_quang_nam_summary_counts_its_units_and_communes(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    summary = (await reporting.get("/reports/provinces/49/summary", params={"year": 2021})).json()
    assert summary["sponsor_units"] == 2  # Tam Kỳ, Agribank
    assert summary["communes"] == 3  # La Êê, La Dêê, Lăng
    assert summary["districts"] == 1  # huyện Nam Giang
    assert summary["by_year"] == [{"year": 2021, "value_vnd": 757_000_000, "activities": 4}]
    assert {r["lead"] for r in summary["lead_roster"]} == {
        "UBND thành phố Tam Kỳ",
        "Agribank chi nhánh tỉnh Quảng Nam",
    }


async def test_coverage_and_plan_versus_actual(reporting: httpx.AsyncClient, loaded: None) -> None:
    coverage = (await reporting.get("/reports/provinces/49/coverage", params={"year": 2021})).json()
    plans = (await reporting.get("/reports/provinces/60/plans", params={"year": 2024})).json()

    assert {c["name"] for c in coverage["without_activity"]} == {"Xã La Êê", "Xã La Dêê"}
    assert [(c["commitment_id"], c["fulfilled"]) for c in plans["commitments"]] == [
        ("ho-kinh-te", True)
    ]


async def activity_of(activities: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    body = {
        "assignment_id": DONG_GIANG,
        "commune": {"edition": "pre-2025", "code": "23074"},
        "occurred_on": "2025-03-10",
        "category": "culture_sport_exchange",
        "description": "Giao lưu văn nghệ",
        "value_vnd": 10_000_000,
        "sponsor_unit_id": demo_unit_id("60", BHXH),
        **changes,
    }
    response = await activities.post("/activities", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def year_2025(reporting: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    report: dict[str, Any] = (
        await reporting.get("/reports/communes/pre-2025/23074", params={"year": 2025, **params})
    ).json()
    return report


async def test_co_funding_is_split_by_share_and_corrections_and_voids_count_once(
    reporting: httpx.AsyncClient, activities: httpx.AsyncClient, loaded: None
) -> None:
    before = await year_2025(reporting)
    shares = [
        {"sponsor_unit_id": demo_unit_id("60", SO_CONG_THUONG), "value_vnd": 6_000_000},
        {"sponsor_unit_id": demo_unit_id("60", BHXH), "value_vnd": 4_000_000},
    ]
    joint = await activity_of(activities, sponsor_unit_id=None, contributions=shares)
    mistaken = await activity_of(activities, value_vnd=1_000_000)
    await activities.post(
        f"/activities/{mistaken['id']}/corrections",
        json={**{k: v for k, v in mistaken.items() if k not in ("id", "province", "voided",
              "version")}, "value_vnd": 2_000_000,
              "contributions": [{"sponsor_unit_id": demo_unit_id("60", BHXH),
                                 "value_vnd": 2_000_000}],
              "reason": "sửa số tiền"},
    )  # fmt: skip
    voided = await activity_of(activities, value_vnd=50_000_000)
    await activities.post(f"/activities/{voided['id']}/void", json={"reason": "ghi nhầm"})

    async def settled() -> dict[str, Any] | None:
        report = await year_2025(reporting)
        expected = before["totals"]["value_vnd"] + 10_000_000 + 2_000_000
        return report if report["totals"]["value_vnd"] == expected else None

    report = await eventually(settled)
    assert report, "the projection did not settle on the expected total"
    assert report["totals"]["activities"] == before["totals"]["activities"] + 2
    units = {u["name"]: u["value_vnd"] for u in report["by_sponsor_unit"]}
    before_units = {u["name"]: u["value_vnd"] for u in before["by_sponsor_unit"]}
    assert units[SO_CONG_THUONG] - before_units.get(SO_CONG_THUONG, 0) == 6_000_000
    assert units[BHXH] - before_units.get(BHXH, 0) == 4_000_000 + 2_000_000
    assert joint["id"] in {
        a["activity_id"]
        for a in (
            await reporting.get(
                "/reports/communes/pre-2025/23074/activities", params={"year": 2025}
            )
        ).json()
    }


async def test_as_of_counts_only_what_was_known_then(
    reporting: httpx.AsyncClient, activities: httpx.AsyncClient, loaded: None
) -> None:
    first = await activity_of(activities, value_vnd=3_000_000, occurred_on="2025-04-01")
    await eventually(lambda: _has(reporting, first["id"]))
    moment = (await activities.get(f"/activities/{first['id']}")).json()["history"][0][
        "occurred_at"
    ]
    later = await activity_of(activities, value_vnd=7_000_000, occurred_on="2025-04-02")
    await eventually(lambda: _has(reporting, later["id"]))

    then = await year_2025(reporting, as_of=moment)
    now = await year_2025(reporting)

    assert now["totals"]["value_vnd"] - then["totals"]["value_vnd"] >= 7_000_000
    assert then["scope"]["as_of"] is not None


async def _has_at(reporting: httpx.AsyncClient, code: str, activity_id: str) -> bool:
    listed = await reporting.get(f"/reports/communes/pre-2025/{code}/activities")
    return activity_id in {a["activity_id"] for a in listed.json()}


async def _has(reporting: httpx.AsyncClient, activity_id: str) -> bool:
    listed = await reporting.get(
        "/reports/communes/pre-2025/23074/activities", params={"year": 2025}
    )
    return activity_id in {a["activity_id"] for a in listed.json()}


def dead_lettered(settings: ReportingSettings, *reasons: str) -> float:
    """How many messages this module's reporting consumers have dead-lettered for `reasons`
    so far. The counter is the process's, so a test compares it before and after."""
    return sum(
        REGISTRY.get_sample_value("ketnghia_dead_letters_total", {"consumer": c, "reason": r})
        or 0.0
        for c in consumer_names(settings).values()
        for r in reasons
    )


async def test_a_duplicate_delivery_changes_nothing_and_poison_goes_to_dead_letters(
    reporting: httpx.AsyncClient,
    activities: httpx.AsyncClient,
    reporting_settings: ReportingSettings,
    loaded: None,
) -> None:
    before = await year_2025(reporting)
    counted = dead_lettered(reporting_settings, "not_cloudevent")
    poison = b"{not json " + uuid.uuid4().hex.encode()  # this test's own
    records = await read_records(reporting_settings.kafka, reporting_settings.activities_topic, 1)
    record = records[0]
    producer = AIOKafkaProducer(**reporting_settings.kafka.aiokafka_options())
    await producer.start()
    try:
        # the first activity again, byte for byte; then a message that is no CloudEvent
        await producer.send_and_wait(
            reporting_settings.activities_topic, record.value, key=record.key,
            headers=list(record.headers),
        )  # fmt: skip
        await producer.send_and_wait(
            reporting_settings.activities_topic, poison, key=b"commune:pre-2025:23074"
        )
    finally:
        await producer.stop()
    after_poison = await activity_of(activities, value_vnd=1_234_000, occurred_on="2025-05-05")
    await eventually(lambda: _has(reporting, after_poison["id"]))

    dead = await read_records(
        reporting_settings.kafka, reporting_settings.dead_letter_topic, 1,
        where=lambda r: r.value == poison,
    )  # fmt: skip
    now = await year_2025(reporting)

    assert now["totals"]["value_vnd"] == before["totals"]["value_vnd"] + 1_234_000
    assert [r.value for r in dead] == [poison]
    assert b"ce_specversion" in dict(dead[0].headers)["dlq_reason"]
    assert dead_lettered(reporting_settings, "not_cloudevent") == counted + 1


@pytest.mark.parametrize("form", ["csv", "xlsx"])
async def test_reports_export_with_vietnamese_headers(
    reporting: httpx.AsyncClient, loaded: None, form: str
) -> None:
    response = await reporting.get("/reports/communes/pre-2025/23116", params={"format": form})
    if form == "csv":
        lines = response.content.decode("utf-8-sig").splitlines()
        header, rows = lines[0], lines[1:]
    else:
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
        header, rows = ",".join(map(str, table[0])), [",".join(map(str, r)) for r in table[1:]]
    assert header == "Mục,Chi tiết,Giá trị (VND),Số hoạt động / số lượng"
    assert any("Tín dụng, cho vay vốn" in row and "200000000" in row for row in rows)


async def test_the_xlsx_province_summary_shows_its_counts_above_the_money(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    response = await reporting.get(
        "/reports/provinces/49/summary", params={"year": 2021, "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)][1:]

    labels = [row[0] for row in rows]
    assert rows[:4] == [
        ["Số đơn vị kết nghĩa", None, None, 2],
        ["Số xã (thôn) được giúp đỡ", None, None, 3],
        ["Số huyện được giúp đỡ", None, None, 1],
        ["Số phân công", None, None, 4],
    ]
    assert labels.index("Số phân công") < labels.index("Tổng cộng")


async def test_the_sponsor_unit_report_lists_its_work_and_its_idle_years(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    agribank = demo_unit_id("49", "Agribank chi nhánh tỉnh Quảng Nam")
    report = (await reporting.get(f"/reports/sponsor-units/{agribank}")).json()
    assert [(r["year"], r["commune"]["name"], r["value_vnd"]) for r in report["activities"]] == [
        (2021, "Xã Lăng", 757_000_000)
    ]
    assert report["assigned_years_without_activity"] == [2022, 2023, 2024, 2025]


UNREADABLE = ("not_cloudevent", "rejected", "projection_failed")
"""What the live consumers dead-letter: before applying (`shared.consumer.sort_out`) and
what the projection refused for good (`apply_or_isolate`); the rebuild skips the same."""


async def projection_rows(engine: AsyncEngine, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table's rows, sorted; `activity_versions` without the moments its
    versions took effect, which are event times and so the same, compared as such."""
    found = {}
    async with engine.connect() as conn:
        for table in PROJECTIONS:
            rows = await conn.execute(text(f'SELECT * FROM "{schema}"."{table.name}"'))
            found[table.name] = sorted(tuple(map(str, row)) for row in rows)
    return found


async def test_a_rebuild_equals_the_live_projection_row_for_row_and_switches_over(
    reporting: httpx.AsyncClient,
    reporting_settings: ReportingSettings,
    reporting_engine: AsyncEngine,
    activities_engine: AsyncEngine,
    loaded: None,
) -> None:
    # a message that is no CloudEvent, dead-lettered by the live consumer: the rebuild
    # skips it, and whatever other tests of this module dead-lettered as unreadable too
    counted = dead_lettered(reporting_settings, *UNREADABLE)
    producer = AIOKafkaProducer(**reporting_settings.kafka.aiokafka_options())
    await producer.start()
    try:
        await producer.send_and_wait(
            reporting_settings.activities_topic, b"{not json", key=b"commune:pre-2025:23116"
        )
    finally:
        await producer.stop()

    async def poison_dead_lettered() -> bool:
        return dead_lettered(reporting_settings, *UNREADABLE) == counted + 1

    await eventually(poison_dead_lettered)
    assert await eventually(lambda: caught_up(reporting_engine, activities_engine))
    live_schema = reporting_settings.database_schema
    answers = [
        (await reporting.get(path)).json()
        for path in ("/reports/communes/pre-2025/23116", "/reports/provinces/49/summary")
    ]

    fresh, progress = await rebuild(reporting_settings, switch=False, report=lambda _p: None)
    live_rows = await projection_rows(reporting_engine, live_schema)
    rebuilt_rows = await projection_rows(reporting_engine, fresh)
    assert progress.skipped == dead_lettered(reporting_settings, *UNREADABLE)
    assert rebuilt_rows == live_rows

    switched, _ = await rebuild(reporting_settings, switch=True, report=lambda _p: None)
    assert switched == live_schema
    again = [
        (await reporting.get(path)).json()
        for path in ("/reports/communes/pre-2025/23116", "/reports/provinces/49/summary")
    ]
    assert again == answers


async def test_the_kept_province_totals_equal_counting_every_activity(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    """After the corrections and voids of the other tests: the totals the summary keeps
    equal the sum over the activities in force (which an as-of query counts)."""
    cases = [("60", {}), ("49", {}), ("68", {"mapped": "true"}), ("48", {"mapped": "true"})]
    for province, scope in cases:  # mapped: the commune totals of its communes
        path = f"/reports/provinces/{province}/summary"
        kept = (await reporting.get(path, params=scope)).json()
        counted = (
            await reporting.get(path, params={**scope, "as_of": "2100-01-01T00:00:00Z"})
        ).json()
        assert kept["totals"]["activities"] > 0, (province, scope)
        for key in ("totals", "by_year", "by_period", "by_category"):
            assert kept[key] == counted[key], (province, scope, key)


async def test_the_metrics_move_when_events_flow(
    reporting: httpx.AsyncClient,
    activities: httpx.AsyncClient,
    reporting_settings: ReportingSettings,
    activities_settings: Any,
    loaded: None,
) -> None:
    consumer = f"{reporting_settings.database_schema}.activities"
    applied = {"consumer": consumer, "type": "vn.ketnghia.activity.recorded.v1"}
    published = {"topic": activities_settings.activities_topic}

    def sample(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        sample("ketnghia_consumer_events_applied_total", applied),
        sample("ketnghia_outbox_published_total", published),
    )
    created = await activity_of(activities, value_vnd=999_000, occurred_on="2025-06-06")
    await eventually(lambda: _has(reporting, created["id"]))
    exposed = scraped((await reporting.get("/metrics")).text)

    assert sample("ketnghia_consumer_events_applied_total", applied) == before[0] + 1
    assert sample("ketnghia_outbox_published_total", published) >= before[1] + 1
    lag = exposed["ketnghia_projection_lag_events"]
    assert [s.value for s in lag if s.labels == {"consumer": consumer}] == [0.0]
    requests = exposed["ketnghia_http_request_duration_seconds_count"]
    assert any(s.labels["method"] == "GET" and s.value >= 1 for s in requests)


async def terminal(*argv: str, **environment: str) -> Result:
    """`ketnghia …` as an operator types it, in a thread (the services answer from this
    test's event loop), signed in as the coordinator of Bình Thuận (60)."""
    return await asyncio.to_thread(CliRunner().invoke, cli.app, list(argv), env=environment)


@pytest.fixture(autouse=True)
def signed_in(issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    coordinator = person(Role.PROVINCE_COORDINATOR, ["60"])
    monkeypatch.setenv("KETNGHIA_TOKEN", issuer.token(coordinator, lifetime=3600))


async def test_the_cli_prints_a_report_and_says_what_went_wrong(
    reporting_url: str, loaded: None
) -> None:
    shown = await terminal(
        "report", "commune", "pre-2025", "23074", "--year", "2024",
        KETNGHIA_REPORTING_URL=reporting_url,
    )  # fmt: skip
    refused = await terminal(
        "report", "commune", "pre-2025", "23074", "--mapped", KETNGHIA_REPORTING_URL=reporting_url
    )
    unreachable = await terminal(
        "report", "province", "60", KETNGHIA_REPORTING_URL=f"http://127.0.0.1:{free_port()}"
    )

    assert shown.exit_code == 0, shown.output
    assert "name=Xã Đông Giang" in shown.output
    assert "Học bổng, đồ dùng" in shown.output  # the category's Vietnamese label
    assert "21.750.000" in shown.output  # VND written as Vietnamese write it
    assert "đếm đến / counted up to: " in shown.output
    assert refused.exit_code == 1
    assert "422" in refused.output
    assert "chỉ quy đổi sang đơn vị từ 2025" in refused.output
    assert unreachable.exit_code == 1
    assert "reporting không trả lời" in unreachable.output


async def test_the_cli_imports_a_sheet_and_lists_the_rows_it_refused(
    activities_url: str, loaded: None, tmp_path: Path
) -> None:
    header, first, *_rest = IMPORT_FILE.read_text(encoding="utf-8").splitlines()
    sheet = tmp_path / "hai-dong.csv"
    too_early = first.replace("19/09/2024", "19/09/2019", 1)  # before the units joined
    sheet.write_text("\n".join([header, first, too_early]), encoding="utf-8")

    shown = await terminal(
        "import", str(sheet), "--province", "60", KETNGHIA_ACTIVITIES_URL=activities_url
    )

    assert shown.exit_code == 2, shown.output  # some rows were refused
    assert "2 dòng: ghi 0, đã có từ trước 1, lỗi 1" in shown.output
    assert "│ 3    │ Đơn vị thực hiện │" in shown.output
    assert "19/09/2019" in shown.output


async def test_the_cli_status_shows_each_service_ready_or_not(
    reporting_url: str, loaded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.console, "width", 200)  # a wide terminal: a row per line
    nowhere = f"http://127.0.0.1:{free_port()}"
    shown = await terminal(
        "status",
        KETNGHIA_REGISTRY_URL=nowhere,
        KETNGHIA_ACTIVITIES_URL=nowhere,
        KETNGHIA_REPORTING_URL=reporting_url,
    )

    rows = {line.split("│")[1].strip(): line for line in shown.output.splitlines() if "│" in line}
    assert "ready" in rows["reporting"]
    assert "lag s" in rows["reporting"]
    assert "not answering" in rows["registry"]
    assert shown.exit_code == 1  # not every service is ready


async def test_quantities_are_added_up_by_category_and_unit_not_by_unit_alone(
    activities: httpx.AsyncClient, reporting: httpx.AsyncClient, loaded: None
) -> None:
    """Five breeding cows and three pigs given as gifts are both "con": two figures."""
    common = {
        "assignment_id": DONG_GIANG, "commune": {"edition": "pre-2025", "code": "23074"},
        "occurred_on": "2025-03-10", "sponsor_unit_id": demo_unit_id("60", SO_CONG_THUONG),
    }  # fmt: skip
    cows = await activities.post("/activities", json={
        **common, "category": "breeding_stock_seedlings", "description": "Bò giống",
        "value_vnd": 75_000_000, "quantity": {"amount": 5, "unit": "con"},
    })  # fmt: skip
    pigs = await activities.post("/activities", json={
        **common, "category": "gifts_in_kind", "description": "Lợn làm quà Tết",
        "value_vnd": 9_000_000, "quantity": {"amount": 3, "unit": "con"},
    })  # fmt: skip
    assert (cows.status_code, pigs.status_code) == (201, 201), pigs.text
    await eventually(lambda: _has(reporting, pigs.json()["id"]))

    report = await reporting.get("/reports/communes/pre-2025/23074", params={"year": 2025})
    csv_text = (
        await reporting.get(
            "/reports/communes/pre-2025/23074", params={"year": 2025, "format": "csv"}
        )
    ).text

    heads = [q for q in report.json()["quantities"] if q["unit"] == "con"]
    assert {(q["category"], q["amount"]) for q in heads} >= {
        ("breeding_stock_seedlings", "5"), ("gifts_in_kind", "3"),
    }  # fmt: skip
    assert "Con giống, cây giống (con)" in csv_text


async def test_coverage_mapped_lists_a_2025_provinces_communes_and_refuses_a_merged_province(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    q4 = {"year": 2025, "quarter": 4, "mapped": True}
    lam_dong = await reporting.get("/reports/provinces/68/coverage", params=q4)
    binh_thuan = await reporting.get("/reports/provinces/60/coverage", params=q4)
    summary = await reporting.get("/reports/provinces/60/summary", params={"mapped": True})

    assert lam_dong.status_code == 200, lam_dong.text
    listed = lam_dong.json()["without_activity"]
    assert len(listed) == 2  # Bình Thuận's two assignments, on their 2025 communes
    assert {c["edition"] for c in listed} == {"2025"}
    assert "23122" in {c["code"] for c in listed}  # Hàm Thạnh, where Hàm Cần went
    for refused in (binh_thuan, summary):
        assert refused.status_code == 422
        [error] = refused.json()["detail"]
        assert error["loc"] == ["path", "province"]
        assert "68" in error["msg"]


async def test_plan_versus_actual_compares_the_planned_value_and_quantity(
    activities: httpx.AsyncClient, reporting: httpx.AsyncClient, loaded: None
) -> None:
    plan = await activities.post(f"/assignments/{DONG_GIANG}/plans", json={"year": 2024,
        "commitments": [{"id": "xe-dap", "description": "Xe đạp cho học sinh nghèo",
                         "category": "scholarship_school_equipment",
                         "planned_value_vnd": 30_000_000,
                         "planned_quantity": {"amount": 20, "unit": "chiếc"}}]})  # fmt: skip
    done = await activities.post("/activities", json={
        "assignment_id": DONG_GIANG, "commune": {"edition": "pre-2025", "code": "23074"},
        "occurred_on": "2024-09-30", "category": "scholarship_school_equipment",
        "description": "15 xe đạp (theo kế hoạch)", "value_vnd": 21_750_000,
        "sponsor_unit_id": demo_unit_id("60", SO_CONG_THUONG),
        "quantity": {"amount": 15, "unit": "chiếc"}, "commitment_id": "xe-dap",
    })  # fmt: skip
    assert (plan.status_code, done.status_code) == (201, 201), done.text

    async def reported() -> Any:
        report = await reporting.get("/reports/provinces/60/plans", params={"year": 2024})
        found = [c for c in report.json()["commitments"] if c["commitment_id"] == "xe-dap"]
        return found and found[0]["activities"] and found[0]

    versus = await eventually(reported)
    here = (await activities.get(f"/assignments/{DONG_GIANG}/plans/2024")).json()

    expected = {"planned_value_vnd": 30_000_000, "actual_value_vnd": 21_750_000,
                "planned_quantity": {"amount": "20", "unit": "chiếc"},
                "actual_quantity": {"amount": "15", "unit": "chiếc"}}  # fmt: skip
    assert {key: versus[key] for key in expected} == expected
    [mine] = here["commitments"]
    assert {key: mine[key] for key in expected} == expected


async def test_the_activities_behind_a_figure_download_as_the_page_lists_them(
    reporting: httpx.AsyncClient, loaded: None
) -> None:
    path, year = "/reports/provinces/60/activities", {"year": 2024}
    listed = (await reporting.get(path, params=year)).json()
    summary = (await reporting.get("/reports/provinces/60/summary", params=year)).json()
    as_csv = await reporting.get(path, params={**year, "format": "csv"})
    as_xlsx = await reporting.get(path, params={**year, "format": "xlsx"})

    assert listed
    assert sum(a["value_vnd"] for a in listed) == summary["totals"]["value_vnd"]
    assert 'filename="hoat-dong-tinh-60.csv"' in as_csv.headers["content-disposition"]
    [header, *rows] = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert header[:6] == ["Ngày", "Phiên bản", "Mã xã", "Hạng mục", "Nội dung", "Giá trị (VND)"]
    assert sorted(r[7] for r in rows) == sorted(a["activity_id"] for a in listed)
    assert sum(int(r[5]) for r in rows) == summary["totals"]["value_vnd"]
    named = {c["name"] for a in listed for c in a["contributions"]}
    assert None not in named  # every co-funder by its name, in the page and the file
    assert all(any(name in r[6] for name in named) for r in rows)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    assert sheet.max_row == len(rows) + 1


async def test_poison_of_every_kind_is_dead_lettered_and_both_pipelines_flow_on(
    reporting: httpx.AsyncClient,
    activities: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    registry_engine: AsyncEngine,
    reporting_settings: ReportingSettings,
    loaded: None,
) -> None:
    """A body that is not JSON under a JSON content type and a header that is not UTF-8
    (the framework's own decoding used to retry them for ever), and a registry event
    replayed under a new id (the projection refuses it every time: a unit registered
    twice): each dead-lettered with its reason and its bytes; the events behind them
    applied."""
    settings = reporting_settings
    before = await year_2025(reporting)
    real = (await read_records(settings.kafka, settings.activities_topic, 1))[0]
    headers = dict(real.headers)
    not_json = b"\xff\xfe{not json"
    bad_header = {**headers, "ce_id": str(uuid.uuid4()).encode(), "ce_source": b"\xff\xfe"}
    async with registry_engine.connect() as conn:
        row = (
            await conn.execute(
                select(*STORED_COLUMNS)
                .where(events.c.type == "vn.ketnghia.registry.sponsor_unit.registered.v1")
                .limit(1)
            )
        ).one()
    replayed = StoredEvent.from_row(row._mapping).to_envelope("/ketnghia/registry")
    replayed = replayed.model_copy(update={"id": uuid.uuid4()})
    message = replayed.to_kafka()
    producer = AIOKafkaProducer(**settings.kafka.aiokafka_options())
    await producer.start()
    try:
        topic, key = settings.activities_topic, real.key
        await producer.send_and_wait(topic, not_json, key=key, headers=list(headers.items()))
        await producer.send_and_wait(topic, real.value, key=key, headers=list(bad_header.items()))
        await producer.send_and_wait(
            settings.registry_topic, message.value, key=replayed.partitionkey.encode(),
            headers=list(message.headers.items()),
        )  # fmt: skip
    finally:
        await producer.stop()

    after = await activity_of(activities, value_vnd=4_321_000, occurred_on="2025-05-06")
    unit = await registry.post(
        "/sponsor-units",
        json={"province": "60", "name": "Đơn vị đăng ký sau chất độc", "kind": "armed_forces"},
    )
    assert unit.status_code == 201, unit.text
    unit_report = f"/reports/sponsor-units/{unit.json()['id']}"
    await eventually(lambda: _has(reporting, after["id"]))
    await eventually(lambda: _answers(reporting, unit_report))
    mine = {not_json, real.value, message.value}
    dead = await read_records(
        settings.kafka, settings.dead_letter_topic, 3, where=lambda r: r.value in mine
    )
    by_value = {r.value: dict(r.headers) for r in dead}

    now = await year_2025(reporting)
    assert now["totals"]["value_vnd"] == before["totals"]["value_vnd"] + 4_321_000
    assert by_value[not_json]["dlq_kind"] == b"not_cloudevent"
    assert by_value[real.value]["dlq_kind"] == b"not_cloudevent"
    assert by_value[real.value]["dlq_b64_ce_source"] == base64.b64encode(b"\xff\xfe")
    assert by_value[message.value]["dlq_kind"] == b"projection_failed"
    assert b"sponsor_units_pkey" in by_value[message.value]["dlq_reason"]
    ready = (await reporting.get("/readyz")).json()
    assert ready["checks"]["pipelines"] == "ok"


async def _answers(reporting: httpx.AsyncClient, path: str) -> bool:
    return (await reporting.get(path)).status_code == 200


async def test_the_projections_hold_sums_past_bigint_of_amounts_at_the_contract_limit(
    reporting: httpx.AsyncClient, reporting_settings: ReportingSettings, loaded: None
) -> None:
    """9,300 activities of the largest amount the contract allows (10^15 đồng), in one
    province, quarter and category: their sum passes a `bigint` (9.2 × 10^18); the
    province totals hold it and the summary answers it exactly, beneficiaries too."""
    count, top, commune = 9_300, 10**15, "00004"  # Phường Trúc Bạch, Hà Nội
    records = []
    for n in range(count):
        activity_id = str(uuid.uuid4())
        envelope = Envelope(
            id=uuid.uuid4(), source="/ketnghia/activities",
            type="vn.ketnghia.activity.recorded.v1", time=datetime.now(UTC),
            subject=activity_id, province="01", partitionkey=f"commune:pre-2025:{commune}",
            correlationid=uuid.uuid4(), streamversion=1,
            data={"activity_id": activity_id, "province": "01", "assignment_id": "a-limit",
                  "commune": {"edition": "pre-2025", "code": commune},
                  "occurred_on": "2024-02-01", "category": "health", "description": f"#{n}",
                  "value_vnd": top, "contributions": [{"sponsor_unit_id": "u", "value_vnd": top}],
                  "funding_source": "own_budget",
                  "beneficiaries": [{"count": 10_000_000, "kind": "persons", "group": "poor"}]},
        )  # fmt: skip
        records.append(envelope.to_kafka())
    producer = AIOKafkaProducer(**reporting_settings.kafka.aiokafka_options(), linger_ms=20)
    await producer.start()
    try:
        key = f"commune:pre-2025:{commune}".encode()
        sent = [
            await producer.send(reporting_settings.activities_topic, m.value, key=key,
                                headers=list(m.headers.items()))
            for m in records
        ]  # fmt: skip
        await asyncio.gather(*sent)
    finally:
        await producer.stop()

    async def counted() -> bool:
        summary = await reporting.get("/reports/provinces/01/summary", params={"year": 2024})
        return bool(summary.json()["totals"]["activities"] == count)

    await eventually(counted, timeout=120)
    summary = (await reporting.get("/reports/provinces/01/summary", params={"year": 2024})).json()
    commune_report = (await reporting.get(f"/reports/communes/pre-2025/{commune}")).json()
    assert summary["totals"]["value_vnd"] == count * top > 2**63
    assert commune_report["totals"]["value_vnd"] == count * top
    assert commune_report["beneficiaries"][0]["count"] == count * 10_000_000 > 2**31
