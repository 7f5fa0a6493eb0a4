"""The exports are built from the typed answers (`entrypoints/answers.py`), once: the
reporting service writes them as CSV or xlsx, and `ketnghia report` draws the same table
in the terminal from the JSON it reads into the same models."""

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from services import cli
from services.reporting.entrypoints import exports
from shared.spreadsheets import write_csv

SCOPE = {"programme_id": None, "year": 2024, "quarter": None,
         "as_of": datetime(2024, 10, 1, 7, 30, tzinfo=UTC), "edition": "as recorded"}  # fmt: skip
COUNTED = [{"topic": "activities", "partition": 0, "next_offset": 42, "last_event_time": None}]
FIGURES: dict[str, Any] = {
    "totals": {"value_vnd": 21_750_000, "activities": 2},
    "by_period": [{"year": 2024, "quarter": 3, "value_vnd": 21_750_000, "activities": 2}],
    "by_category": [
        {"category": "gifts_in_kind", "label": "Quà", "value_vnd": 21_750_000, "activities": 2}
    ],
    "by_sponsor_unit": [
        {"sponsor_unit_id": "u-1", "name": None, "value_vnd": 1_000, "activities": 1},
        {"sponsor_unit_id": "u-2", "name": '=HYPERLINK("x")', "value_vnd": 2, "activities": 1},
    ],
    "quantities": [{"category": "gifts_in_kind", "label": "Quà", "unit": "suất", "amount": "1.5"}],
    "beneficiaries": [{"kind": "households", "group": "poor", "count": 7, "label": "Hộ"}],
}
SPLIT = [{"old_code": "23116", "old_name": "Xã Hàm Cần", "successors": ["23122", "23125"],
          "value_vnd": 200_000_000, "activities": 1}]  # fmt: skip
PROVINCE = {
    "province": "60", "scope": SCOPE, "sponsor_units": 6, "assignments": 2, "communes": 2,
    "districts": 0, "totals": FIGURES["totals"],
    "by_year": [{"year": 2024, "value_vnd": 21_750_000, "activities": 2}],
    "by_period": FIGURES["by_period"], "by_category": FIGURES["by_category"], "by_district": [],
    "lead_roster": [{"year": 2024, "lead": "Sở Công Thương", "target_kind": "commune",
                     "target_code": "23074", "target_name": None}],
    "counted_up_to": COUNTED, "split_predecessors": SPLIT,
}  # fmt: skip
COMMUNE = {
    "commune": {"edition": "pre-2025", "code": "23074", "name": "Xã Đông Giang"},
    "scope": {**SCOPE, "provinces": ["60"]}, **FIGURES, "counted_up_to": COUNTED,
}  # fmt: skip


def test_a_province_summary_shows_its_counts_above_the_money_and_the_split_communes() -> None:
    summary = exports.PROVINCE.read(PROVINCE)

    rows = exports.PROVINCE.rows(summary)

    assert [row[0] for row in rows] == [
        "Số đơn vị kết nghĩa", "Số xã (thôn) được giúp đỡ", "Số huyện được giúp đỡ",
        "Số phân công", "Tổng cộng", "Theo năm, quý", "Theo năm", "Theo hạng mục", "Chủ trì",
        "Xã cũ bị chia (không chia số liệu)",
    ]  # fmt: skip
    assert rows[-2] == ["Chủ trì", "2024: 23074", None, "Sở Công Thương"]
    assert rows[-1] == ["Xã cũ bị chia (không chia số liệu)", "Xã Hàm Cần → 23122, 23125",
                        200_000_000, 1]  # fmt: skip


def test_an_activity_lists_its_co_funders_by_name_or_id() -> None:
    listed = exports.ACTIVITIES.read([{
        "activity_id": "a-1", "version": 2, "occurred_on": date(2024, 9, 19),
        "commune": {"edition": "pre-2025", "code": "23074"}, "category": "gifts_in_kind",
        "label": "Quà tặng bằng hiện vật", "value_vnd": 3_000, "description": "Quà Tết",
        "contributions": [{"sponsor_unit_id": "u-1", "value_vnd": 1_000},
                          {"sponsor_unit_id": "u-2", "name": "Hội Nông dân", "value_vnd": 2_000}],
    }])  # fmt: skip

    [row] = exports.ACTIVITIES.rows(listed)

    assert row == [date(2024, 9, 19), "pre-2025", "23074", "Quà tặng bằng hiện vật", "Quà Tết",
                   3_000, "u-1: 1000; Hội Nông dân: 2000", "a-1", 2]  # fmt: skip


def test_the_terminal_draws_what_the_csv_export_holds() -> None:
    """Each cell as the CSV writes it: nothing for none, a formula behind a `'`."""
    report = exports.COMMUNE.read_json(exports.COMMUNE.read(COMMUNE).model_dump_json())
    rows = exports.COMMUNE.rows(report)

    header, *written = csv.reader(io.StringIO(write_csv(exports.FIGURE_HEADERS, rows).decode()))
    header[0] = header[0].lstrip("\ufeff")

    assert header == exports.COMMUNE.headers
    assert written == [[cli._cell(cell) for cell in row] for row in rows]
    assert ["Theo đơn vị (phần đóng góp)", '\'=HYPERLINK("x")', "2", "1"] in written


def test_the_heading_is_the_reports_plain_fields_as_its_json_writes_them() -> None:
    province = exports.PROVINCE.read_json(exports.PROVINCE.read(PROVINCE).model_dump_json())
    commune = exports.COMMUNE.read_json(
        exports.COMMUNE.read(COMMUNE).model_dump_json(exclude_unset=True)
    )

    assert cli._heading(province) == [
        "province: 60",
        "scope: year=2024, as_of=2024-10-01T07:30:00+00:00, edition=as recorded",
        "sponsor_units: 6", "assignments: 2", "communes: 2", "districts: 0",
    ]  # fmt: skip
    # a scope limited to the caller's provinces holds a list: left out, as before the models
    assert cli._heading(commune) == ["commune: edition=pre-2025, code=23074, name=Xã Đông Giang"]
    assert cli._positions(commune.counted_up_to) == "activities[0]@42"
