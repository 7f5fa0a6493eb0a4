"""Importing the way units report: an xlsx (or CSV) sheet, every row checked, the good
rows recorded, the bad ones reported by row and column; the same file twice."""

import asyncio
import io
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.activities.adapters.tables import activities as activities_table
from services.activities.demo import import_and_wait
from services.activities.service_layer.imports import (
    CHUNK,
    COLUMNS,
    find_import,
    run_import,
    start_import,
)
from services.registry.demo import Tally
from shared.auth import Principal, Role
from shared.demo_cases import HOI_NONG_DAN_BT, VKS_BT

HEADERS = [column.header for column in COLUMNS]


KEYS = [column.key for column in COLUMNS]


def row(**cells: Any) -> list[Any]:
    """A sheet row of the Hàm Cần case, with `cells` (by column key) changed."""
    values = {
        "occurred_on": "15/10/2024",
        "commune_code": "23116",
        "unit": HOI_NONG_DAN_BT,
        "category": "Tín dụng, cho vay vốn",
        "description": "Cho vay vốn trồng thanh long VietGAP từ Quỹ hỗ trợ nông dân",
        "value_vnd": 200_000_000,
        "beneficiaries": 7,
        "beneficiary_kind": "Hộ",
        "beneficiary_group": "Hộ nghèo",
        "funding_source": "Tín dụng, vốn vay",
        **cells,
    }
    return [values.get(column.key) for column in COLUMNS]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = [
    row(),
    row(
        occurred_on="20/11/2024",
        category="training_technology_transfer",
        description="Tập huấn kỹ thuật nuôi chim bồ câu",
        value_vnd="15.000.000",
        beneficiaries=30,
        beneficiary_kind="persons",
        beneficiary_group="general",
        funding_source=None,
    ),
    row(
        occurred_on="05/12/2024",
        unit=VKS_BT,
        category="Khảo sát, lập kế hoạch",
        description="Khảo sát làm đường bê tông đến trạm y tế",
        value_vnd=0,
        beneficiaries=None,
        beneficiary_kind=None,
        beneficiary_group=None,
        funding_source=None,
    ),
]
BAD = [
    row(occurred_on="31-13-2024"),  # row 5: wrong date format
    row(value_vnd=-5_000_000),  # row 6: negative value
    row(commune_code="99999"),  # row 7: unknown commune
    row(unit="Sở Công Thương tỉnh Bình Thuận"),  # row 8: a unit, but not Hàm Cần's
    row(value_vnd="hai trăm triệu"),  # row 9: text in a number column
]


async def import_file(
    activities: httpx.AsyncClient, content: bytes, name: str = "ham-can-2024.xlsx"
) -> dict[str, Any]:
    return await import_and_wait(activities, "60", name, content)


async def test_an_import_records_the_good_rows_and_reports_each_bad_one(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    report = await import_file(activities, workbook(GOOD + BAD))

    assert report["rows"] == 8
    assert report["recorded"] == 3
    by_row = {(e["row"], e["column"]): e["reason"] for e in report["errors"]}
    assert set(by_row) == {
        (5, "Ngày"),
        (6, "Giá trị (VND)"),
        (7, "Mã xã"),
        (8, "Đơn vị thực hiện"),
        (9, "Giá trị (VND)"),
    }
    assert "dd/mm/yyyy" in by_row[(5, "Ngày")]
    assert "không được âm" in by_row[(6, "Giá trị (VND)")]
    assert "99999" in by_row[(7, "Mã xã")]
    assert "không được phân công" in by_row[(8, "Đơn vị thực hiện")]
    assert "không phải là số" in by_row[(9, "Giá trị (VND)")]
    loans = (
        await activities.get(
            "/activities", params={"commune_code": "23116", "category": "credit_loan"}
        )
    ).json()
    loan = row()  # the sheet's loan (other tests record loans in Hàm Cần too)
    assert [
        (a["value_vnd"], a["beneficiaries"])
        for a in loans
        if a["description"] == loan[KEYS.index("description")] and a["value_vnd"] == 200_000_000
    ] == [(200_000_000, [{"count": 7, "kind": "households", "group": "poor"}])]


async def test_the_same_file_twice_records_nothing_new(
    activities: httpx.AsyncClient, activities_engine: AsyncEngine, demo: Tally
) -> None:
    content = workbook([row(occurred_on="10/12/2024", description="Tặng quà Tết")] * 2)
    first = await import_file(activities, content)
    async with activities_engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).select_from(activities_table))
    again = await import_file(activities, content)
    async with activities_engine.connect() as conn:
        after = await conn.scalar(select(func.count()).select_from(activities_table))

    assert first["recorded"] == 2  # two identical rows are two activities
    assert (again["recorded"], again["already_recorded"]) == (0, 2)
    assert after == stored


async def test_a_csv_file_with_vietnamese_number_formats_imports_too(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    lines = [";".join(HEADERS)]
    lines.append(";".join("" if v is None else str(v) for v in row(
        occurred_on="18/12/2024", value_vnd="3.500.000", description="Tư vấn thành lập HTX",
        category="advice_cooperative_ocop", beneficiaries=None, beneficiary_kind=None,
        beneficiary_group=None, funding_source=None,
    )))  # fmt: skip
    report = await import_file(activities, "\n".join(lines).encode("utf-8-sig"), "hts.csv")
    assert report["errors"] == []
    assert report["recorded"] == 1


async def test_every_fault_of_a_row_is_listed_not_only_the_first(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    faulty = row(occurred_on="31/02/2024", value_vnd="nhiều", category="không có",
                 unit="Đơn vị không có", beneficiary_kind=None)  # fmt: skip

    report = await import_file(activities, workbook([faulty]))

    columns = sorted(e["column"] for e in report["errors"] if e["row"] == 2)
    assert columns == sorted(
        ["Ngày", "Giá trị (VND)", "Hạng mục", "Đơn vị thực hiện", "Loại đối tượng"]
    )
    assert report["recorded"] == 0


async def test_an_import_for_a_province_that_does_not_exist_is_refused(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    response = await activities.post(
        "/imports", params={"province": "99"}, files={"file": ("x.xlsx", workbook([row()]))}
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "province"]
    assert "99" in error["msg"]


async def test_a_sheet_without_the_required_columns_is_refused_whole(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    response = await activities.post(
        "/imports",
        params={"province": "60"},
        files={"file": ("x.csv", "Ngày,Nội dung\n01/01/2024,quà\n".encode())},
    )
    assert response.status_code == 422
    assert "Mã xã" in response.json()["detail"][0]["msg"]


async def test_the_template_has_every_column_and_the_lists(activities: httpx.AsyncClient) -> None:
    response = await activities.get("/imports/template.xlsx")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    header = next(book.worksheets[0].iter_rows(values_only=True))
    editable = load_workbook(io.BytesIO(response.content))
    drop_downs = {
        str(rule.sqref).split(":")[0]: rule.formula1
        for rule in editable.worksheets[0].data_validations.dataValidation
    }
    category = f"{chr(ord('A') + HEADERS.index('Hạng mục'))}2"

    assert list(header) == HEADERS
    assert book.sheetnames == ["Hoạt động", "Danh mục"]
    assert len(drop_downs) == 5  # category, unit, beneficiary kind and group, funding
    assert drop_downs[category].startswith("'Danh mục'!$")


async def test_each_import_is_kept_with_who_when_and_what_became_of_its_rows(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    faulty = row(occurred_on="31/02/2024", description="Ngày sai")
    report = await import_file(
        activities, workbook([row(occurred_on="11/12/2024", description="Quà"), faulty])
    )

    history = (await activities.get("/provinces/60/imports")).json()

    [kept] = [entry for entry in history if entry["import_id"] == report["import_id"]]
    assert (kept["rows"], kept["recorded"], kept["refused_rows"]) == (2, 1, 1)
    assert kept["errors"] == [e for e in report["errors"]]
    assert kept["actor"]["role"] == "operations"
    assert kept["started_at"] <= kept["finished_at"]
    assert history[0]["started_at"] >= history[-1]["started_at"]  # newest first


def many(count: int, label: str) -> bytes:
    """A CSV of `count` distinct Hàm Cần rows, from 1 October 2024 on, for 250 days."""
    first_day = date(2024, 10, 1)
    lines = [",".join(HEADERS)]
    for index in range(count):
        values = row(
            occurred_on=f"{first_day + timedelta(days=index % 250):%d/%m/%Y}",
            description=f"{label} {index}",
            value_vnd=1_000 + index,
            beneficiaries=None, beneficiary_kind=None, beneficiary_group=None,
        )  # fmt: skip
        lines.append(",".join("" if v is None else f'"{v}"' for v in values))
    return "\n".join(lines).encode()


async def test_an_import_answers_202_and_tells_its_progress_until_its_result(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    rows = 3 * CHUNK + 17
    started = await activities.post(
        "/imports", params={"province": "60"},
        files={"file": ("nhieu-dong.csv", many(rows, "Quà số"))},
    )  # fmt: skip
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == f"/imports/{started.json()['import_id']}"
    seen, answer = [], started.json()
    while answer["status"] == "running":
        seen.append(answer["rows"])
        await asyncio.sleep(0.05)
        answer = (await activities.get(started.headers["Location"])).json()

    assert answer["status"] == "done", answer
    counts = (answer["rows"], answer["recorded"], answer["refused_rows"])
    assert counts == (rows, rows, 0), answer["errors"][:3]
    assert answer["finished_at"] is not None
    assert seen == sorted(seen)  # never backwards
    assert all(count % CHUNK == 0 or count == rows for count in seen)  # per recorded chunk
    assert any(0 < count < rows for count in seen), seen  # progress while it ran


async def test_an_unreadable_file_is_refused_before_an_import_starts(
    activities: httpx.AsyncClient, demo: Tally
) -> None:
    before = len((await activities.get("/provinces/60/imports")).json())
    response = await activities.post(
        "/imports", params={"province": "60"}, files={"file": ("x.xlsx", b"PK\x03\x04 no zip")}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    assert len((await activities.get("/provinces/60/imports")).json()) == before


async def test_an_import_cut_short_by_the_service_stopping_says_so_and_keeps_its_chunks(
    activities_engine: AsyncEngine, activities_settings: Any, demo: Tally
) -> None:
    caller = Principal("coordinator-60", "Điều phối thử", frozenset({Role.PROVINCE_COORDINATOR}),
                       frozenset({"60"}))  # fmt: skip
    job = await start_import(
        activities_engine, province="60", caller=caller, filename="dung-giua-chung.csv",
        content=many(40, "Quà dừng giữa chừng số"), topic=activities_settings.activities_topic,
        correlation_id=uuid.uuid4(),
    )  # fmt: skip
    first_chunk = asyncio.Event()

    def told(done: int, _total: int) -> None:
        first_chunk.set()

    running = asyncio.create_task(run_import(activities_engine, job, chunk=10, progress=told))
    await first_chunk.wait()
    running.cancel()  # what the service's shutdown does after its grace period
    with pytest.raises(asyncio.CancelledError):
        await running

    async with activities_engine.connect() as conn:
        found = await find_import(conn, job.id)
    assert found["status"] == "failed"
    assert "import the file again" in found["failure"]
    assert 10 <= found["recorded"] < 40  # the chunks recorded before it stopped stay
    assert found["finished_at"] is not None
