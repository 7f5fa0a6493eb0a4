"""HTTP routes of the reports; each answers JSON, or `?format=csv` / `?format=xlsx`."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.reporting.entrypoints import exports
from services.reporting.entrypoints.exports import Export
from services.reporting.service_layer import access, reports
from services.reporting.service_layer.reports import Scope
from shared.service import Caller, Snapshot
from shared.spreadsheets import content_disposition, write_csv, write_workbook

router = APIRouter(prefix="/reports", tags=["Báo cáo (reports)"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or with `format` a CSV or xlsx file",
        "content": {"text/csv": {}, XLSX: {}},
    }
}
"""A report answers JSON (its response model; keys it gives only sometimes stay absent:
`response_model_exclude_unset`), or with `?format=csv|xlsx` a file: a `Response` of its
own, which FastAPI passes without checking it against the model (the file's rows are
built from the report read into that model: `exports.Export`)."""


def report_route(path: str, export: Export[Any]) -> Callable[[Any], Any]:
    """A report's route: JSON answered as the export's model, or a file (`FILES`)."""
    return router.get(
        path, response_model=export.shape, response_model_exclude_unset=True, responses=FILES
    )


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


async def _scope(
    programme_id: str | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    as_of: Annotated[
        datetime | None, Query(description="đến thời điểm / count only what was known then")
    ] = None,
    mapped: Annotated[
        bool, Query(description="quy đổi sang đơn vị hành chính từ 01/7/2025 / map to today")
    ] = False,
) -> Scope:
    return Scope(programme_id, year, quarter, as_of, mapped)


ReportScope = Annotated[Scope, Depends(_scope)]


def _answer(report: object, form: Format, name: str, export: Export[Any]) -> Any:
    if form == Format.JSON:
        return report  # FastAPI checks it against the route's model
    rows = export.rows(export.read(report))
    if form == Format.CSV:
        content, media = write_csv(export.headers, rows), "text/csv; charset=utf-8"
    else:
        content, media = write_workbook(export.headers, rows, title=name), XLSX
    disposition = content_disposition(f"{name}.{form}")
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})


@report_route("/communes/{edition}/{code}", exports.COMMUNE)
async def commune(
    edition: str,
    code: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    format: Format = Format.JSON,
) -> Any:
    """Xã × giai đoạn: value, activities, quantities, beneficiaries; by year and quarter,
    category and sponsor unit (co-funded activities split by their shares)."""
    provinces = await access.readable_commune(conn, caller, edition, code)
    scope = replace(scope, provinces=provinces)
    report = await reports.commune_report(conn, edition, code, scope)
    return _answer(report, format, f"xa-{code}", exports.COMMUNE)


@report_route("/communes/{edition}/{code}/activities", exports.ACTIVITIES)
async def commune_activities(
    edition: str,
    code: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    format: Format = Format.JSON,
) -> Any:
    """The activities behind the commune report's figures."""
    provinces = await access.readable_commune(conn, caller, edition, code)
    scope = replace(scope, provinces=provinces)
    listed = await reports.drill_down(conn, edition, code, scope, category, limit)
    name = f"hoat-dong-xa-{code}"
    return _answer(listed, format, name, exports.ACTIVITIES)


@report_route("/provinces/{province}/summary", exports.PROVINCE)
async def province_summary(
    province: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    format: Format = Format.JSON,
) -> Any:
    """Tổng hợp tỉnh: units and communes twinned, value per year and category, leads."""
    access.require_read_province(caller, province)
    report = await reports.province_summary(conn, province, scope)
    return _answer(report, format, f"tinh-{province}", exports.PROVINCE)


@report_route("/provinces/{province}/activities", exports.ACTIVITIES)
async def province_activities(
    province: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    format: Format = Format.JSON,
) -> Any:
    """The activities behind the province summary's figures (filter by year, quarter,
    category; as recorded or mapped)."""
    access.require_read_province(caller, province)
    listed = await reports.province_drill_down(conn, province, scope, category, limit)
    name = f"hoat-dong-tinh-{province}"
    return _answer(listed, format, name, exports.ACTIVITIES)


@report_route("/provinces/{province}/districts/{code}", exports.DISTRICT)
async def district(
    province: str,
    code: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    format: Format = Format.JSON,
) -> Any:
    """Huyện kết nghĩa (trước 01/7/2025): a district's twinning, by period, category,
    sponsor unit and the commune each activity was recorded at."""
    access.require_read_province(caller, province)
    report = await reports.district_report(conn, province, code, scope)
    return _answer(report, format, f"huyen-{province}-{code}", exports.DISTRICT)


@report_route("/provinces/{province}/coverage", exports.COVERAGE)
async def coverage(
    province: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    format: Format = Format.JSON,
) -> Any:
    """Xã được phân công nhưng chưa có hoạt động trong năm (quý)."""
    access.require_read_province(caller, province)
    report = await reports.coverage(conn, province, scope)
    return _answer(report, format, f"bao-phu-{province}", exports.COVERAGE)


@report_route("/provinces/{province}/plans", exports.PLANS)
async def plans(
    province: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    format: Format = Format.JSON,
) -> Any:
    """Kế hoạch và thực hiện: each commitment, and whether an activity fulfilled it."""
    access.require_read_province(caller, province)
    report = await reports.plan_versus_actual(conn, province, scope)
    return _answer(report, format, f"ke-hoach-{province}", exports.PLANS)


@report_route("/sponsor-units/{unit_id}", exports.SPONSOR_UNIT)
async def sponsor_unit(
    unit_id: str,
    conn: Snapshot,
    caller: Caller,
    scope: ReportScope,
    format: Format = Format.JSON,
) -> Any:
    """Đơn vị: what it did, where, per year; the years assigned without activity."""
    await access.require_read_unit(conn, caller, unit_id)
    report = await reports.sponsor_unit_report(conn, unit_id, scope)
    return _answer(report, format, "don-vi", exports.SPONSOR_UNIT)
