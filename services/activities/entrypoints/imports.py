"""HTTP routes for importing a sheet of activities, and the template to fill in."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.activities.service_layer import access
from services.activities.service_layer.imports import (
    COLUMNS,
    find_import,
    history,
    run_import,
    start_import,
)
from shared import catalogue
from shared.answers import ActorOut
from shared.bounds import MAX_UPLOAD_BYTES, PROVINCE_CODE_PATTERN
from shared.errors import RuleViolation
from shared.jobs import Jobs
from shared.progress import Meter
from shared.service import Caller, Connection, CorrelationId
from shared.spreadsheets import content_disposition, write_workbook

log = structlog.get_logger(__name__)
router = APIRouter(tags=["Nhập từ Excel (import)"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    disposition = content_disposition("mau-nhap-hoat-dong.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})


class RowRefusal(BaseModel):
    row: int = Field(description="số dòng trong tệp / the row as the spreadsheet numbers it")
    column: str = Field(description="cột / the column (its key in the template)")
    reason: str


class ImportAnswer(BaseModel):
    """Một lần nhập / an import: its progress while it runs, then its result."""

    import_id: uuid.UUID
    province: str
    filename: str
    actor: ActorOut
    status: Literal["running", "done", "failed"] = Field(
        description="đang nhập / xong / thất bại: running, done, failed"
    )
    failure: str | None = Field(description="lý do thất bại / why it failed")
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    rows: int = Field(description="số dòng đã đọc / rows read so far")
    recorded: int = Field(description="số dòng đã ghi / rows recorded")
    already_recorded: int = Field(description="đã có từ lần nhập trước / recorded before")
    refused_rows: int = Field(description="số dòng lỗi / rows refused")
    summary: str
    errors: list[RowRefusal] = Field(
        description="lỗi theo dòng và cột (tối đa 10.000) / refusals by row and column"
    )
    errors_kept: int


def _answer(found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "import_id": found["id"]}


@router.get("/provinces/{province}/imports", response_model=list[ImportAnswer])
async def import_history(province: str, conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    """Lịch sử nhập: the province's imports, newest first, with who, when, the counts and
    the first refused rows of each (`GET /imports/{id}` has them all)."""
    access.require_province_records(caller, province)
    return [_answer(found) for found in await history(conn, province)]


@router.post("/imports", status_code=202, response_model=ImportAnswer)
async def import_activities(
    request: Request,
    response: Response,
    correlation_id: CorrelationId,
    caller: Caller,
    province: Annotated[
        str, Query(pattern=PROVINCE_CODE_PATTERN, description="mã tỉnh / province code")
    ],
    file: Annotated[UploadFile, File(description=".xlsx or .csv, the template's columns")],
) -> dict[str, Any]:
    """Nhập hoạt động từ tệp: answers 202 once the file's header is read, and the import
    runs on; follow it at `Location` (`GET /imports/{id}`: rows read, recorded, refused,
    then the result). Every row is checked; the good ones are recorded, each bad one is
    reported with its row, column and reason. The same file twice records nothing new the
    second time. A coordinator imports any row of the province; a unit's clerk only rows
    its unit acted in (others are refused, each with the reason)."""
    content = await file.read(MAX_UPLOAD_BYTES + 1)  # the request's size is bounded already
    if len(content) > MAX_UPLOAD_BYTES:
        raise RuleViolation("file", "tệp lớn hơn 50 MB: hãy chia nhỏ / the file exceeds 50 MB")
    settings = request.app.state.settings
    engine = request.app.state.engine
    job = await start_import(
        engine,
        province=province,
        caller=caller,
        content=content,
        filename=file.filename or "activities.xlsx",
        topic=settings.activities_topic,
        correlation_id=correlation_id,
    )
    meter = Meter(f"nhập {job.filename} / import", lambda line: log.info(line, province=province))
    jobs: Jobs = request.app.state.jobs
    jobs.start(run_import(engine, job, progress=meter), name=f"import-{job.id}")
    response.headers["Location"] = f"/imports/{job.id}"
    async with engine.connect() as conn:
        return _answer(await find_import(conn, job.id))


@router.get("/imports/{import_id}", response_model=ImportAnswer)
async def import_progress(import_id: uuid.UUID, conn: Connection, caller: Caller) -> dict[str, Any]:
    """Một lần nhập: its progress while it runs (`status` running, the counts so far), then
    its result with every refused row (up to 10,000) by row and column."""
    found = await find_import(conn, import_id)
    access.require_province_records(caller, found["province"])
    return _answer(found)
