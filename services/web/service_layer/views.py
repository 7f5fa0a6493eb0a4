"""What each page shows, gathered from the services: the person's view of a province, a
commune, the recording form; and a recording's body from the form as people fill it in
(numbers as `21.750.000`)."""

import asyncio
import re
from datetime import date
from typing import Any

from services.web.adapters.services import ServiceError, Services
from shared.auth import Principal
from shared.editions import FROM_2025, PRE_2025

LAST_OLD_DAY = date(2025, 6, 30)  # the pre-2025 communes' last day

PALETTE = ["#1d4e89", "#b45309", "#047857", "#7c2d8a", "#9f1239", "#0e7490", "#4d5b15"]
"""Chart colours, each at least 4.5:1 against white (the labels' and bars' background)."""


async def dashboard(
    services: Services, province: str, year: int | None, mapped: bool, as_of: date | None
) -> dict[str, Any]:
    scope = {"mapped": "true" if mapped else None,
             "as_of": f"{as_of.isoformat()}T23:59:59+07:00" if as_of else None}  # fmt: skip
    base = f"/reports/provinces/{province}"
    summary, units = await asyncio.gather(  # the services answer side by side
        services.get("reporting", f"{base}/summary", year=year, **scope),
        services.get("registry", "/sponsor-units", province=province),
    )
    years = [row["year"] for row in summary["by_year"]]
    shown_year = year or (max(years) if years else date.today().year)
    coverage, plans = await asyncio.gather(
        services.get("reporting", f"{base}/coverage", year=shown_year, **scope),
        services.get("reporting", f"{base}/plans", year=shown_year, as_of=scope["as_of"]),
    )
    periods = summary["by_period"]
    chart = {
        "quarters": {"labels": [f"Q{p['quarter']}/{p['year']}" for p in periods],
                     "values": [p["value_vnd"] for p in periods]},
        "categories": {"labels": [c["label"] for c in summary["by_category"]],
                       "values": [c["value_vnd"] for c in summary["by_category"]]},
        "palette": PALETTE,
    }  # fmt: skip
    return {"province": province, "summary": summary, "coverage": coverage, "plans": plans,
            "year": year, "shown_year": shown_year, "mapped": mapped, "as_of": as_of,
            "chart": chart, "units": units}  # fmt: skip


async def commune(
    services: Services, edition: str, code: str, on: date, year: int | None
) -> dict[str, Any]:
    base = f"/communes/{edition}/{code}"
    lineage_path, key = (
        (f"/lineage/communes/{code}", "successors")
        if edition == PRE_2025
        else (f"/admin-units/{FROM_2025}/commune/{code}/predecessors", "predecessors")
    )
    helpers, lineage, report, activities = await asyncio.gather(
        services.get("registry", f"{base}/helpers", on=on.isoformat()),
        services.get("registry", lineage_path),
        services.get("reporting", f"/reports{base}", year=year),
        services.get("reporting", f"/reports{base}/activities", year=year, limit=500),
    )
    lineage = lineage[key]
    return {"edition": edition, "code": code, "on": on, "year": year, "helpers": helpers,
            "lineage": lineage, "report": report, "activities": activities}  # fmt: skip


async def setup(services: Services, province: str) -> dict[str, Any]:
    """A province's programmes, sponsor units and assignments, and its 2025 communes (a
    pre-2025 province has none of its own: the list stays empty)."""
    programmes = await services.get("registry", "/programmes", province=province)
    units = await services.get("registry", "/sponsor-units", province=province)
    assignments = await services.get("registry", "/assignments", province=province)
    try:
        communes = await services.get(
            "registry", f"/admin-units/{FROM_2025}/province/{province}/children"
        )
    except ServiceError as missing:
        if missing.status != 404:
            raise
        communes = []
    return {"province": province, "programmes": programmes, "units": units,
            "assignments": assignments, "communes": communes}  # fmt: skip


async def record_form(services: Services, me: Principal, province: str | None) -> dict[str, Any]:
    """The assignments the person may record for, as commune and unit choices by name."""
    provinces = sorted(me.provinces)
    province = province if province in provinces else (provinces[0] if provinces else None)
    assignments = (
        await services.get("registry", "/assignments", province=province) if province else []
    )
    mine = set(me.sponsor_units)
    communes: dict[str, str] = {}
    units: dict[str, str] = {}
    for assignment in assignments:
        if assignment["ended_on"]:
            continue
        for target in assignment["targets"]:
            name = target["name"] or target["code"]
            edition = "trước 2025" if target["edition"] == PRE_2025 else "từ 01/7/2025"
            communes[f"{target['edition']}:{target['code']}"] = f"{name} ({edition})"
        for member in assignment["members"]:
            if not mine or member["sponsor_unit_id"] in mine:
                units[member["sponsor_unit_id"]] = member["name"]
    catalogue = await services.get("activities", "/catalogue")
    return {"province": province, "provinces": provinces,
            "communes": dict(sorted(communes.items(), key=lambda kv: kv[1])),
            "units": dict(sorted(units.items(), key=lambda kv: kv[1])),
            "catalogue": catalogue}  # fmt: skip


# The form's fields, and the parts of the service's 422 locations each one shows.
FIELDS = {
    "commune": ("commune", "commune_code", "commune_edition", "assignment_id"),
    "sponsor_unit_id": ("sponsor_unit_id", "sponsor_unit", "contributions"),
    "co_value_vnd": ("contributions.1",),
    "occurred_on": ("occurred_on",),
    "category": ("category",),
    "description": ("description",),
    "value_vnd": ("value_vnd",),
    "amount": ("quantity",),
    "beneficiaries_count": ("beneficiaries",),
    "funding_source": ("funding_source",),
    "evidence": ("evidence",),
}


def errors_by_field(errors: dict[str, str]) -> dict[str, str]:
    """The service's reasons beside the form's fields (the rest above the form)."""
    shown: dict[str, str] = {}
    for location, reason in errors.items():
        matches = [(len(part), name) for name, parts in FIELDS.items() for part in parts
                   if location == part or location.startswith(f"{part}.")]  # fmt: skip
        field = max(matches)[1] if matches else "form"  # the most precise part wins
        shown[field] = f"{shown[field]}; {reason}" if field in shown else reason
    return shown


def money(text: str, field: str) -> int:
    """`21.750.000`, `21750000` or `21.750.000 đ` → 21750000."""
    return whole(text, field, 16, "cần số tiền, ví dụ 21.750.000 / a whole number of đồng")


def whole(text: str, field: str, digits: int = 9, reason: str = "") -> int:
    """A whole number as people write it: dots between groups of three, or none."""
    written = re.sub(r"[\s\u00a0đ]", "", text)
    grouped = re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+", written)
    if not (grouped or re.fullmatch(r"[0-9]+", written)) or len(written) > digits + digits // 3:
        raise _invalid(field, reason or "cần một số nguyên, ví dụ 1.200 / a whole number")
    number = written.replace(".", "")
    if len(number) > digits:
        raise _invalid(field, reason or "số quá lớn / too large")
    return int(number)


def amount(text: str) -> str:
    """`1.500` → 1500, `2,5` → 2.5, `1.500,25` → 1500.25 (a dot groups thousands)."""
    text = text.strip()
    if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+(,[0-9]{1,6})?", text) or re.fullmatch(
        r"[0-9]{1,12}(,[0-9]{1,6})?", text
    ):
        return text.replace(".", "").replace(",", ".")
    raise _invalid("quantity", "viết số lượng như 1.500 hoặc 2,5 / write 1.500 or 2,5")


# What the form's free-text fields may hold (the services bound them too).
LIMITS = {"description": 2000, "evidence": 500, "reason": 500}


def bounded(values: dict[str, str]) -> dict[str, str]:
    """The form's values, each within its length (300 unless `LIMITS` says)."""
    for key, value in values.items():
        if len(value) > LIMITS.get(key, 300):
            raise _invalid(key, f"dài quá {LIMITS.get(key, 300)} ký tự / too long")
    return values


def _invalid(field: str, reason: str) -> ServiceError:
    return ServiceError("web", 422, [{"loc": ["body", field], "msg": reason}])


def activity_body(values: dict[str, str]) -> dict[str, Any]:
    """The activities API's body from the recording form."""
    edition, _, code = values.get("commune", "").partition(":")
    value = money(values.get("value_vnd", ""), "value_vnd")
    unit = values.get("sponsor_unit_id", "")
    body: dict[str, Any] = {
        "commune": {"edition": edition, "code": code},
        "occurred_on": values.get("occurred_on", ""),
        "category": values.get("category", ""),
        "description": values.get("description", ""),
        "value_vnd": value,
        "funding_source": values.get("funding_source") or "own_budget",
    }
    co_unit = values.get("co_unit_id", "")
    if co_unit:
        co_value = money(values.get("co_value_vnd", ""), "contributions.1")
        body["contributions"] = [
            {"sponsor_unit_id": unit, "value_vnd": value - co_value},
            {"sponsor_unit_id": co_unit, "value_vnd": co_value},
        ]
    else:
        body["sponsor_unit_id"] = unit
    if values.get("amount"):
        body["quantity"] = {"amount": amount(values["amount"]),
                            "unit": values.get("quantity_unit", "")}  # fmt: skip
    if values.get("beneficiaries_count"):
        count = whole(values["beneficiaries_count"], "beneficiaries")
        body["beneficiaries"] = [{"count": count, "kind": values.get("beneficiary_kind", ""),
                                  "group": values.get("beneficiary_group", "")}]  # fmt: skip
    if values.get("evidence"):
        body["evidence"] = [values["evidence"]]
    return body


CORRECTED = (
    "assignment_id", "commune", "village_id", "category", "contributions", "funding_source",
    "quantity", "beneficiaries", "evidence", "commitment_id",
)  # fmt: skip
CO_FUNDED = (
    "hoạt động đồng tài trợ: điều chỉnh phần của từng đơn vị qua API / a co-funded "
    "activity's shares are corrected through the API"
)


def correction_body(activity: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A correction of the day, description and value (a single unit's activity: a
    co-funded one's shares are corrected through the API), the rest as recorded."""
    kept = {key: activity[key] for key in CORRECTED if activity.get(key) is not None}
    value = money(values.get("value_vnd", ""), "value_vnd")
    if len(kept["contributions"]) != 1:
        raise _invalid("value_vnd", CO_FUNDED)
    unit = kept.pop("contributions")[0]["sponsor_unit_id"]
    return {
        **kept,
        "sponsor_unit_id": unit,
        "value_vnd": value,
        "occurred_on": values.get("occurred_on", ""),
        "description": values.get("description", ""),
        "reason": values.get("reason", ""),
    }
