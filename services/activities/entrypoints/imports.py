"""HTTP routes for importing a sheet of activities, and the template to fill in."""

from dataclasses import asdict
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response

from services.activities.adapters.sheets import UnreadableSheet
from services.activities.service_layer import access
from services.activities.service_layer.imports import COLUMNS, history, import_sheet
from shared import catalogue
from shared.errors import RuleViolation
from shared.progress import Meter
from shared.service import Caller, Connection, CorrelationId
from shared.spreadsheets import write_workbook

log = structlog.get_logger(__name__)
router = APIRouter(tags=["Nhập từ Excel (import)"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 50 * 1024 * 1024


@router.get("/imports/template.xlsx", response_class=Response)
async def template() -> Response:
    """Tệp mẫu: the columns, an example row, and the lists the coded columns accept."""
    content = write_workbook(
        [column.header for column in COLUMNS],
        [[column.example for column in COLUMNS]],
        {
            "Hạng mục": list(catalogue.CATEGORIES.values()),
            "Đơn vị tính": list(catalogue.QUANTITY_UNITS),
            "Loại đối tượng": list(catalogue.BENEFICIARY_KINDS.values()),
            "Nhóm đối tượng": list(catalogue.BENEFICIARY_GROUPS.values()),
            "Nguồn kinh phí": list(catalogue.FUNDING_SOURCES.values()),
        },
    )
    disposition = 'attachment; filename="mau-nhap-hoat-dong.xlsx"'
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get("/provinces/{province}/imports")
async def import_history(province: str, conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    """Lịch sử nhập: the province's imports, newest first, with who, when, the counts and
    the first refused rows."""
    access.require_province_records(caller, province)
    return await history(conn, province)


@router.post("/imports")
async def import_activities(
    request: Request,
    correlation_id: CorrelationId,
    caller: Caller,
    province: Annotated[str, Query(pattern=r"^\d{2}$", description="mã tỉnh / province code")],
    file: Annotated[UploadFile, File(description=".xlsx or .csv, the template's columns")],
) -> dict[str, Any]:
    """Nhập hoạt động từ tệp: every row is checked; the good ones are recorded, each bad
    one is reported with its row, column and reason. The same file twice records nothing
    new the second time. A coordinator imports any row of the province; a unit's clerk
    only rows its unit acted in (others are refused, each with the reason)."""
    content = await file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise RuleViolation("file", "tệp lớn hơn 50 MB: hãy chia nhỏ / the file exceeds 50 MB")
    settings = request.app.state.settings
    try:
        report = await import_sheet(
            request.app.state.engine,
            province=province,
            caller=caller,
            content=content,
            filename=file.filename or "activities.xlsx",
            topic=settings.activities_topic,
            correlation_id=correlation_id,
            progress=Meter(
                f"nhập {file.filename} / import", lambda line: log.info(line, province=province)
            ),
        )
    except UnreadableSheet as unreadable:
        raise RuleViolation("file", str(unreadable)) from unreadable
    return {
        "import_id": str(report.id),
        "summary": (
            f"{report.rows} dòng: ghi {report.recorded}, đã có từ trước "
            f"{report.already_recorded}, lỗi {len({e.row for e in report.errors})}"
        ),
        "rows": report.rows,
        "recorded": report.recorded,
        "already_recorded": report.already_recorded,
        "errors": [asdict(error) for error in report.errors],
    }
