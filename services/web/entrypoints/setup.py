"""Programme setup, for a province's coordinator: programmes with their legal basis,
sponsor units, assignments with members and the lead of a year, the succession onto the
2025 commune, and each assignment's yearly plan and commitments. Every form posts here,
the service decides, and a refusal is shown above the form it came from."""

from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.web.adapters.services import ServiceError, Services
from services.web.entrypoints.pages import Province, Uuid, Version
from services.web.entrypoints.rendering import Signed, check_csrf, page, services_for
from services.web.service_layer import views
from services.web.service_layer.sessions import Session
from shared.bounds import COMMUNE_CODE_PATTERN
from shared.catalogue import CATEGORIES, SPONSOR_UNIT_KINDS

router = APIRouter()
Text = Annotated[str, Form(max_length=300)]
Year = Annotated[int, Form(ge=2000, le=2100)]
UnitId = Annotated[str, Form(pattern=r"^[0-9a-f-]{36}$")]


async def _setup(
    request: Request, session: Any, province: str, error: str | None = None, status: int = 200
) -> Response:
    services = services_for(request, session)
    context = await views.setup(services, province)
    return page(request, "setup.html", {**context, "error": error,
                                        "kinds": SPONSOR_UNIT_KINDS,
                                        "this_year": date.today().year}, status=status)  # fmt: skip


@router.get("/provinces/{province}/setup")
async def setup(request: Request, session: Signed, province: Province) -> Response:
    """Thiết lập chương trình: what the province has set up, and the forms to add to it."""
    return await _setup(request, session, province)


@dataclass(frozen=True)
class Posted:
    """A setup form a signed-in coordinator posted, made only by the dependencies below,
    after its CSRF token was checked (`Checked`); `version` is the version of what the form
    was drawn from, sent to the registry as If-Match."""

    request: Request
    session: Session
    province: str
    version: int | None = None

    async def ask(self, form: str, path: str, body: Any, method: str = "POST") -> Response:
        """Ask the registry for the change; back to the setup page, or the page again with
        the registry's reason above the form (`form` names it)."""
        headers = {"If-Match": f'"{self.version}"'} if self.version is not None else {}
        services = services_for(self.request, self.session)
        try:
            await services.call("registry", method, path, json=body, headers=headers)
        except ServiceError as refused:
            if refused.status not in (403, 409, 422):
                raise
            return await _setup(self.request, self.session, self.province,
                                f"{form}: {refused.message}", refused.status)  # fmt: skip
        return RedirectResponse(f"/provinces/{self.province}/setup", status_code=303)


async def _checked(session: Signed, csrf: Text = "") -> Session:
    """The signed-in person's session, once the form's CSRF token is theirs (403 if not),
    before anything else of the form is looked at."""
    check_csrf(session, csrf)
    return session


Checked = Annotated[Session, Depends(_checked)]


async def _posted(request: Request, session: Checked, province: Province) -> Posted:
    return Posted(request, session, province)


async def _amending(posted: Annotated[Posted, Depends(_posted)], version: Version) -> Posted:
    return replace(posted, version=version)


New = Annotated[Posted, Depends(_posted)]
Amending = Annotated[Posted, Depends(_amending)]


@router.post("/provinces/{province}/programmes")
async def add_programme(
    posted: New, name: Text, start_year: Year, end_year: Year, scope: Text = "",
    basis_number: Annotated[str, Form(max_length=100)] = "",
    basis_issued_on: Annotated[date | None, Form()] = None, basis_issuer: Text = "",
) -> Response:  # fmt: skip
    bases = []
    if basis_number:
        issued = basis_issued_on.isoformat() if basis_issued_on else None
        bases = [{"number": basis_number, "issued_on": issued, "issuer": basis_issuer}]
    body = {"province": posted.province, "name": name, "start_year": start_year,
            "end_year": end_year, "scope": scope, "legal_bases": bases}  # fmt: skip
    return await posted.ask("Chương trình", "/programmes", body)


@router.post("/provinces/{province}/sponsor-units")
async def add_unit(
    posted: New, name: Text,
    kind: Annotated[str, Form(pattern=r"^[a-z_]{1,40}$")],
) -> Response:  # fmt: skip
    body = {"province": posted.province, "name": name, "kind": kind}
    return await posted.ask("Đơn vị", "/sponsor-units", body)


@router.post("/provinces/{province}/assignments")
async def add_assignment(posted: New) -> Response:
    form = await posted.request.form()  # several `members`: read whole, after the token
    views.bounded({key: value for key, value in form.items() if isinstance(value, str)})
    members = [str(unit) for unit in form.getlist("members")][:50]
    joined_on = str(form.get("joined_on", ""))
    lead_year, lead = str(form.get("lead_year", "")), str(form.get("lead_unit", ""))
    body = {
        "programme_id": str(form.get("programme_id", "")),
        "target": {"kind": "commune", "edition": str(form.get("edition", "")),
                   "code": str(form.get("code", "")).strip()},
        "members": [{"sponsor_unit_id": unit, "joined_on": joined_on} for unit in members],
        "leads": {lead_year: lead} if lead_year and lead else {},
    }  # fmt: skip
    return await posted.ask("Phân công", "/assignments", body)


@router.post("/provinces/{province}/assignments/{assignment_id}/succession")
async def succession(
    posted: Amending, assignment_id: Uuid,
    successor_code: Annotated[str, Form(pattern=f"{COMMUNE_CODE_PATTERN}|^$")] = "",
) -> Response:  # fmt: skip
    body = {"successor_code": successor_code} if successor_code else {}
    path = f"/assignments/{assignment_id}/succession"
    return await posted.ask("Chuyển sang xã mới", path, body)


@router.get("/assignments/{assignment_id}/plan")
async def plan(
    request: Request, session: Signed, assignment_id: Uuid,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:  # fmt: skip
    """Kế hoạch năm của một phân công: its commitments beside what was done."""
    services = services_for(request, session)
    return await _plan(request, services, assignment_id, year or date.today().year, None)


async def _plan(
    request: Request, services: Services, assignment_id: str, year: int, error: str | None,
    status: int = 200,
) -> Response:  # fmt: skip
    assignment = await services.get("registry", f"/assignments/{assignment_id}")
    plans = await services.get("activities", f"/assignments/{assignment_id}/plans")
    found = None
    if any(p["year"] == year for p in plans):
        found = await services.get("activities", f"/assignments/{assignment_id}/plans/{year}")
    return page(request, "plan.html", {"assignment": assignment, "plans": plans, "year": year,
                                       "plan": found, "error": error,
                                       "categories": CATEGORIES}, status=status)  # fmt: skip


@router.post("/assignments/{assignment_id}/plan")
async def add_plan_or_commitment(
    request: Request, session: Checked, assignment_id: Uuid, year: Year,
    description: Annotated[str, Form(max_length=2000)] = "",
    category: Annotated[str, Form(max_length=60)] = "",
    quarter: Annotated[int | None, Form(ge=1, le=4)] = None,
    planned_value_vnd: Annotated[str, Form(max_length=30)] = "",
) -> Response:  # fmt: skip
    """A commitment for the year (the year's plan is opened with the first one)."""
    services = services_for(request, session)
    commitment: dict[str, Any] = {"description": description, "category": category or None,
                                  "quarter": quarter}  # fmt: skip
    try:
        if planned_value_vnd:
            commitment["planned_value_vnd"] = views.money(planned_value_vnd, "planned_value_vnd")
        plans = await services.get("activities", f"/assignments/{assignment_id}/plans")
        if any(p["year"] == year for p in plans):
            path = f"/assignments/{assignment_id}/plans/{year}/commitments"
            await services.call("activities", "POST", path, json=commitment)
        else:
            body = {"year": year, "commitments": [commitment]}
            await services.call("activities", "POST", f"/assignments/{assignment_id}/plans",
                                json=body)  # fmt: skip
    except ServiceError as refused:
        if refused.status not in (403, 409, 422):
            raise
        return await _plan(request, services, assignment_id, year, refused.message,
                           refused.status)  # fmt: skip
    return RedirectResponse(f"/assignments/{assignment_id}/plan?year={year}", status_code=303)


@router.post("/provinces/{province}/programmes/{programme_id}/legal-bases")
async def add_legal_basis(
    posted: Amending, programme_id: Uuid, number: Annotated[str, Form(max_length=100)],
    issued_on: Annotated[date, Form()], issuer: Text,
) -> Response:  # fmt: skip
    """Văn bản bổ sung: a decision amending the programme; the first ones stay."""
    body = {"number": number, "issued_on": issued_on.isoformat(), "issuer": issuer}
    path = f"/programmes/{programme_id}/legal-bases"
    return await posted.ask("Văn bản căn cứ", path, body)


@router.post("/provinces/{province}/assignments/{assignment_id}/members")
async def join(
    posted: Amending, assignment_id: Uuid, sponsor_unit_id: UnitId,
    joined_on: Annotated[date, Form()],
) -> Response:  # fmt: skip
    """Thêm đơn vị: a unit joins the assignment from a day."""
    body = {"sponsor_unit_id": sponsor_unit_id, "joined_on": joined_on.isoformat()}
    path = f"/assignments/{assignment_id}/members"
    return await posted.ask("Thêm đơn vị", path, body)


@router.post("/provinces/{province}/assignments/{assignment_id}/leave")
async def leave(
    posted: Amending, assignment_id: Uuid, sponsor_unit_id: UnitId,
    left_on: Annotated[date, Form()],
) -> Response:  # fmt: skip
    """Đơn vị rời phân công: a member stops helping from a day; what it did stays counted."""
    path = f"/assignments/{assignment_id}/members/{sponsor_unit_id}/leave"
    body = {"left_on": left_on.isoformat()}
    return await posted.ask("Đơn vị rời phân công", path, body)


@router.post("/provinces/{province}/assignments/{assignment_id}/lead")
async def assign_lead(
    posted: Amending, assignment_id: Uuid, year: Year, sponsor_unit_id: UnitId,
) -> Response:  # fmt: skip
    """Đơn vị chủ trì năm: the lead of a year (a member that year)."""
    path = f"/assignments/{assignment_id}/leads/{year}"
    body = {"sponsor_unit_id": sponsor_unit_id}
    return await posted.ask("Đơn vị chủ trì", path, body, method="PUT")


@router.post("/provinces/{province}/assignments/{assignment_id}/end")
async def end(
    posted: Amending, assignment_id: Uuid, ended_on: Annotated[date, Form()], reason: Text,
) -> Response:  # fmt: skip
    """Kết thúc phân công: it stops on a day, with the reason; its history stays."""
    path = f"/assignments/{assignment_id}/end"
    body = {"ended_on": ended_on.isoformat(), "reason": reason}
    return await posted.ask("Kết thúc phân công", path, body)


@router.post("/provinces/{province}/assignments/{assignment_id}/continuation")
async def continue_district(
    posted: Amending, assignment_id: Uuid, communes: Annotated[str, Form(max_length=600)],
) -> Response:  # fmt: skip
    """Tiếp tục phân công giúp huyện trên các xã mới (codes separated by commas)."""
    codes = [code.strip() for code in communes.split(",") if code.strip()]
    path = f"/assignments/{assignment_id}/continuation"
    body = {"communes": codes}
    return await posted.ask("Tiếp tục trên xã mới", path, body)
