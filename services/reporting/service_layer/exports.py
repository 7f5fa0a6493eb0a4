"""Reports as tables people open in Excel: Vietnamese headers, one row per figure."""

from typing import Any

from shared.catalogue import BENEFICIARY_GROUPS, BENEFICIARY_KINDS, CATEGORIES
from shared.spreadsheets import Cell

FIGURE_HEADERS = ["Mục", "Chi tiết", "Giá trị (VND)", "Số hoạt động / số lượng"]


def figures(report: dict[str, Any]) -> list[list[Cell]]:
    """The figures of a commune report or province summary, section by section."""
    totals = report["totals"]
    rows: list[list[Cell]] = []
    if "sponsor_units" in report:  # a province summary: its counts above the money
        rows += [
            ["Số đơn vị kết nghĩa", "", None, report["sponsor_units"]],
            ["Số xã (thôn) được giúp đỡ", "", None, report["communes"]],
            ["Số huyện được giúp đỡ", "", None, report["districts"]],
            ["Số phân công", "", None, report["assignments"]],
        ]
    rows += [["Tổng cộng", "", totals["value_vnd"], totals["activities"]]]
    rows += [
        ["Theo năm, quý", f"Quý {p['quarter']}/{p['year']}", p["value_vnd"], p["activities"]]
        for p in report.get("by_period", [])
    ]
    rows += [
        ["Theo năm", str(y["year"]), y["value_vnd"], y["activities"]]
        for y in report.get("by_year", [])
    ]
    rows += [
        ["Theo hạng mục", CATEGORIES.get(c["category"], c["category"]), c["value_vnd"],
         c["activities"]]
        for c in report["by_category"]
    ]  # fmt: skip
    rows += [
        ["Theo đơn vị (phần đóng góp)", u["name"] or u["sponsor_unit_id"], u["value_vnd"],
         u["activities"]]
        for u in report.get("by_sponsor_unit", [])
    ]  # fmt: skip
    rows += [
        ["Số lượng", f"{CATEGORIES.get(q['category'], q['category'])} ({q['unit']})", None,
         q["amount"]]
        for q in report.get("quantities", [])
    ]  # fmt: skip
    rows += [
        ["Đối tượng hưởng lợi",
         f"{BENEFICIARY_KINDS.get(b['kind'], b['kind'])} – "
         f"{BENEFICIARY_GROUPS.get(b['group'], b['group'])}", None, b["count"]]
        for b in report.get("beneficiaries", [])
    ]  # fmt: skip
    rows += [
        ["Theo huyện kết nghĩa", d["name"] or d["code"], d["value_vnd"], d["activities"]]
        for d in report.get("by_district", [])
    ]
    rows += [
        ["Theo xã (nơi ghi nhận)", c["name"] or c["code"], c["value_vnd"], c["activities"]]
        for c in report.get("by_commune", [])
    ]
    rows += [
        ["Chủ trì", f"{r['year']}: {r['target_name'] or r['target_code']}", None, r["lead"]]
        for r in report.get("lead_roster", [])
    ]
    rows += [
        ["Xã cũ bị chia (không chia số liệu)", f"{s['old_name']} → {', '.join(s['successors'])}",
         s["value_vnd"], s["activities"]]
        for s in report.get("split_predecessors", [])
    ]  # fmt: skip
    return rows


COVERAGE_HEADERS = ["Mã phân công", "Loại", "Phiên bản", "Mã xã", "Tên xã"]


def coverage(report: dict[str, Any]) -> list[list[Cell]]:
    return [
        [r["assignment_id"], r["target_kind"], r["edition"], r["code"], r["name"]]
        for r in report["without_activity"]
    ]


PLAN_HEADERS = ["Mã phân công", "Mã cam kết", "Nội dung", "Quý", "Số hoạt động", "Đã thực hiện"]


def plans(report: dict[str, Any]) -> list[list[Cell]]:
    return [
        [c["assignment_id"], c["commitment_id"], c["description"], c["quarter"],
         c["activities"], "Có" if c["fulfilled"] else "Chưa"]
        for c in report["commitments"]
    ]  # fmt: skip


UNIT_HEADERS = ["Năm", "Phiên bản", "Mã xã", "Tên xã", "Giá trị (VND)", "Số hoạt động"]


def sponsor_unit(report: dict[str, Any]) -> list[list[Cell]]:
    rows: list[list[Cell]] = [
        [r["year"], r["commune"]["edition"], r["commune"]["code"], r["commune"]["name"],
         r["value_vnd"], r["activities"]]
        for r in report["activities"]
    ]  # fmt: skip
    rows += [
        [year, None, None, "Được phân công nhưng chưa có hoạt động", 0, 0]
        for year in report["assigned_years_without_activity"]
    ]
    return rows


ACTIVITY_HEADERS = [
    "Ngày", "Phiên bản", "Mã xã", "Hạng mục", "Nội dung", "Giá trị (VND)",
    "Đơn vị đóng góp", "Mã hoạt động", "Lần sửa",
]  # fmt: skip


def activities(listed: list[dict[str, Any]]) -> list[list[Cell]]:
    """The activities behind a figure, one row each; co-funders as `name: value` pairs."""
    return [
        [a["occurred_on"], a["commune"]["edition"], a["commune"]["code"], a["label"],
         a["description"], a["value_vnd"],
         "; ".join(f"{c.get('name') or c['sponsor_unit_id']}: {c['value_vnd']}"
                   for c in a["contributions"]),
         a["activity_id"], a["version"]]
        for a in listed
    ]  # fmt: skip
