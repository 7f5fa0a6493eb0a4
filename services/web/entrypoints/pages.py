"""The pages: home, a province's dashboard, a commune, an activity, recording, importing,
locks, and the reports' files. Each page calls the services as the signed-in person;
what they may not do is not offered, and what a service refuses is shown with its reason."""

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from services.web.adapters.services import ServiceError, Services
from services.web.entrypoints.rendering import Signed, check_csrf, page, services_for
from services.web.service_layer import views
from shared.bounds import (
    COMMUNE_CODE_PATTERN,
    MAX_UPLOAD_BYTES,
    MAX_VERSION,
    PROVINCE_CODE_PATTERN,
)
from shared.editions import EDITION_PATTERN, FROM_2025
from shared.provinces import predecessors as provinces_2025

router = APIRouter()
Province = Annotated[str, Path(pattern=PROVINCE_CODE_PATTERN)]
Edition = Annotated[str, Path(pattern=EDITION_PATTERN)]
Code = Annotated[str, Path(pattern=COMMUNE_CODE_PATTERN)]
Uuid = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
Version = Annotated[int, Form(ge=0, le=MAX_VERSION)]
"""The version a form was drawn from, sent back as If-Match."""
LISTED = 500  # activities a page lists; its download has up to 10,000


@router.get("/")
async def home(request: Request, session: Signed) -> Response:
    """Trang chính: the person's provinces and, for a clerk, their unit's assignments."""
    services = services_for(request, session)
    me = session.principal
    provinces = sorted(provinces_2025() if me.reads_every_province else me.provinces)
    assignments = []
    if me.sponsor_units:
        for province in provinces:
            assignments += await services.get("registry", "/assignments", province=province)
    return page(request, "home.html", {"provinces": provinces, "assignments": assignments})


@router.get("/provinces/{province}")
async def dashboard(
    request: Request,
    session: Signed,
    province: Province,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    mapped: bool = False,
    as_of: Annotated[date | None, Query()] = None,
) -> Response:
    """Tổng quan tỉnh: counts, value by year and quarter and by category (charts), by
    district, coverage, plan versus actual, the lead roster; as recorded or mapped."""
    services = services_for(request, session)
    board = await views.dashboard(services, province, year, mapped, as_of)
    return page(request, "dashboard.html", {
        **board, "chart": json.dumps(board["chart"], ensure_ascii=False).replace("<", "\\u003c"),
        "manages": session.principal.manages(province),
    })  # fmt: skip


@router.get("/provinces/{province}/activities")
async def province_activities(
    request: Request,
    session: Signed,
    province: Province,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    category: Annotated[str | None, Query(pattern=r"^[a-z_]{1,60}$")] = None,
    mapped: bool = False,
) -> Response:
    """Các hoạt động sau một con số: the activities behind a dashboard figure."""
    services = services_for(request, session)
    found = await services.get(
        "reporting", f"/reports/provinces/{province}/activities", year=year, quarter=quarter,
        category=category, mapped="true" if mapped else None, limit=LISTED,
    )  # fmt: skip
    return page(request, "activities.html", {"province": province, "activities": found,
                                             "year": year, "quarter": quarter,
                                             "category": category, "mapped": mapped,
                                             "listed": LISTED})  # fmt: skip


@router.get("/communes/{edition}/{code}")
async def commune(
    request: Request,
    session: Signed,
    edition: Edition,
    code: Code,
    on: Annotated[date | None, Query()] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    """Xã: who helps it on a day (across the reform), its figures and activities."""
    services = services_for(request, session)
    # an old commune is shown on its last day unless a day is asked
    last = date.today() if edition == FROM_2025 else min(date.today(), views.LAST_OLD_DAY)
    found = await views.commune(services, edition, code, on or last, year)
    return page(request, "commune.html", found)


@router.get("/sponsor-units/{unit_id}")
async def sponsor_unit(
    request: Request,
    session: Signed,
    unit_id: Uuid,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    """Đơn vị: what it did, where, per year (its shares), and the years it was assigned
    without recording anything."""
    services = services_for(request, session)
    report = await services.get("reporting", f"/reports/sponsor-units/{unit_id}", year=year)
    return page(request, "unit.html", {"report": report, "year": year})


@router.get("/activities/{activity_id}")
async def activity(request: Request, session: Signed, activity_id: Uuid) -> Response:
    """Hoạt động: its facts and its history (recorded, corrected, voided: who, when, why)."""
    services = services_for(request, session)
    found = await services.get("activities", f"/activities/{activity_id}")
    return page(request, "activity.html", {"activity": found})


@router.post("/activities/{activity_id}/correction")
async def correct(request: Request, session: Signed, activity_id: Uuid) -> Response:
    """Điều chỉnh: the whole new account of the activity, with a reason; the old one stays
    in its history."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    check_csrf(session, values.get("csrf", ""))
    services = services_for(request, session)
    found = await services.get("activities", f"/activities/{activity_id}")
    try:
        body = views.correction_body(found, views.bounded(values))
        seen = values.get("version", "")  # the version the form showed: a later change wins
        await services.call("activities", "POST", f"/activities/{activity_id}/corrections",
                            json=body, headers={"If-Match": f'"{seen[:12]}"'})  # fmt: skip
    except ServiceError as refused:
        if refused.status not in (403, 409, 422):
            raise
        return page(request, "activity.html", {"activity": found, "error": refused.message},
                    status=refused.status)  # fmt: skip
    return RedirectResponse(f"/activities/{activity_id}", status_code=303)


@router.post("/activities/{activity_id}/void")
async def void(
    request: Request,
    session: Signed,
    activity_id: Uuid,
    csrf: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    version: Version = 0,
) -> Response:
    check_csrf(session, csrf)
    services = services_for(request, session)
    await services.call("activities", "POST", f"/activities/{activity_id}/void",
                        json={"reason": reason}, headers={"If-Match": f'"{version}"'})  # fmt: skip
    return RedirectResponse(f"/activities/{activity_id}", status_code=303)


@router.get("/record")
async def record_form(
    request: Request,
    session: Signed,
    province: Annotated[str | None, Query(pattern=PROVINCE_CODE_PATTERN)] = None,
) -> Response:
    """Ghi hoạt động: choose the commune and the unit by their names."""
    services = services_for(request, session)
    form = await views.record_form(services, session.principal, province)
    return page(request, "record.html", {**form, "values": {}, "errors": {}})


@router.post("/record")
async def record(request: Request, session: Signed) -> Response:
    form = await request.form()
    values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    check_csrf(session, values.get("csrf", ""))
    services = services_for(request, session)
    province = values.get("province") or None
    try:
        body = views.activity_body(views.bounded(values))
        answer = await services.call("activities", "POST", "/activities", json=body)
    except ServiceError as refused:
        if refused.status not in (403, 409, 422):
            raise
        context = await views.record_form(services, session.principal, province)
        errors = views.errors_by_field(refused.field_errors) or {"form": refused.message}
        return page(request, "record.html", {**context, "values": values, "errors": errors},
                    status=refused.status)  # fmt: skip
    return RedirectResponse(f"/activities/{answer.json()['id']}?recorded=1", status_code=303)


@router.get("/import")
async def import_form(request: Request, session: Signed) -> Response:
    return page(request, "import.html", {"provinces": sorted(session.principal.provinces),
                                         "error": None})  # fmt: skip


@router.post("/import")
async def import_sheet(
    request: Request,
    session: Signed,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
    province: Annotated[str, Form(pattern=PROVINCE_CODE_PATTERN)] = "",
) -> Response:
    check_csrf(session, csrf)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    services = services_for(request, session)
    try:
        if len(content) > MAX_UPLOAD_BYTES:
            raise ServiceError("web", 413, "tệp lớn hơn 50 MB: hãy chia nhỏ / over 50 MB")
        started = await services.call(
            "activities", "POST", "/imports", params={"province": province},
            files={"file": (file.filename or "hoat-dong.xlsx", content)},
        )  # fmt: skip
    except ServiceError as refused:
        if refused.status not in (403, 413, 422):
            raise
        context = {"provinces": sorted(session.principal.provinces), "error": refused.message}
        return page(request, "import.html", context, status=refused.status)
    return RedirectResponse(f"/imports/{started.json()['import_id']}", status_code=303)


@router.get("/imports/{import_id}")
async def import_progress(request: Request, session: Signed, import_id: Uuid) -> Response:
    """Tiến độ nhập: rows read, recorded, refused; then the refused rows by row and column."""
    services = services_for(request, session)
    found = await services.get("activities", f"/imports/{import_id}")
    return page(request, "import_progress.html", {"job": found})


@router.get("/import/template.xlsx")
async def template(request: Request, session: Signed) -> Response:
    answer = await services_for(request, session).call("activities", "GET",
                                                       "/imports/template.xlsx")  # fmt: skip
    return _file(answer.content, answer.headers)


@router.get("/provinces/{province}/locks")
async def locks(request: Request, session: Signed, province: Province) -> Response:
    """Khóa số liệu: the province's locks, open and lifted, with who and why."""
    services = services_for(request, session)
    found = await services.get("activities", f"/provinces/{province}/locks")
    return page(request, "locks.html", {"province": province, "locks": found,
                                        "manages": session.principal.manages(province),
                                        "year": date.today().year})  # fmt: skip


@router.post("/provinces/{province}/locks")
async def lock(
    request: Request,
    session: Signed,
    province: Province,
    csrf: Annotated[str, Form()] = "",
    year: Annotated[int, Form(ge=2000, le=2100)] = 0,
    quarter: Annotated[int | None, Form(ge=1, le=4)] = None,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(session, csrf)
    body = {"year": year, "quarter": quarter, "reason": reason}
    await services_for(request, session).call(
        "activities", "POST", f"/provinces/{province}/locks", json=body
    )
    return RedirectResponse(f"/provinces/{province}/locks", status_code=303)


@router.post("/provinces/{province}/locks/{lock_id}/unlock")
async def unlock(
    request: Request,
    session: Signed,
    province: Province,
    lock_id: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")],
    csrf: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(session, csrf)
    await services_for(request, session).call(
        "activities", "POST", f"/provinces/{province}/locks/{lock_id}/unlock",
        json={"reason": reason},
    )  # fmt: skip
    return RedirectResponse(f"/provinces/{province}/locks", status_code=303)


FileForm = Annotated[str, Path(pattern=r"^(csv|xlsx)$")]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


@router.get("/exports/provinces/{province}/{report}.{form}")
async def province_export(
    request: Request,
    session: Signed,
    province: Province,
    report: Annotated[str, Path(pattern=r"^(summary|coverage|plans|activities)$")],
    form: FileForm,
    year: Year = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    category: Annotated[str | None, Query(pattern=r"^[a-z_]{1,60}$")] = None,
    mapped: bool = False,
) -> Response:
    """Tải báo cáo: the report's file as the reporting service writes it (`activities`: the
    list behind a figure, by quarter and category as on its page)."""
    services = services_for(request, session)
    params: dict[str, Any] = {"format": form, "year": year, "mapped": mapped or None}
    if report == "activities":
        params |= {"quarter": quarter, "category": category, "limit": 10_000}
    answer = await _download(services, f"/reports/provinces/{province}/{report}", params)
    return _file(answer.content, answer.headers)


@router.get("/exports/provinces/{province}/districts/{code}.{form}")
async def district_export(
    request: Request,
    session: Signed,
    province: Province,
    code: Code,
    form: FileForm,
    year: Year = None,
) -> Response:
    """Huyện kết nghĩa: a district's twinning report as a file."""
    services = services_for(request, session)
    path = f"/reports/provinces/{province}/districts/{code}"
    answer = await _download(services, path, {"format": form, "year": year})
    return _file(answer.content, answer.headers)


@router.get("/exports/communes/{edition}/{code}.{form}")
async def commune_export(
    request: Request,
    session: Signed,
    edition: Edition,
    code: Code,
    form: FileForm,
    year: Year = None,
    listed: Annotated[bool, Query(description="the activities, not the figures")] = False,
) -> Response:
    services = services_for(request, session)
    params: dict[str, Any] = {"format": form, "year": year}
    path = f"/reports/communes/{edition}/{code}"
    if listed:
        path, params = f"{path}/activities", params | {"limit": 10_000}
    answer = await _download(services, path, params)
    return _file(answer.content, answer.headers)


@router.get("/exports/sponsor-units/{unit_id}.{form}")
async def unit_export(
    request: Request,
    session: Signed,
    unit_id: Uuid,
    form: FileForm,
    year: Year = None,
) -> Response:
    services = services_for(request, session)
    params = {"format": form, "year": year}
    answer = await _download(services, f"/reports/sponsor-units/{unit_id}", params)
    return _file(answer.content, answer.headers)


async def _download(services: Services, path: str, params: dict[str, Any]) -> Any:
    query = {key: value for key, value in params.items() if value is not None}
    return await services.call("reporting", "GET", path, params=query)


def _file(content: bytes, headers: Any) -> Response:
    """The service's file, with its type and name (the service wrote them safely)."""
    kept = {"Content-Disposition": headers.get("Content-Disposition", "attachment")}
    return Response(content, media_type=headers.get("Content-Type"), headers=kept)
