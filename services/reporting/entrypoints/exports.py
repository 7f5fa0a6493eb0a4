"""Reports as tables people open in Excel: Vietnamese headers, one row per figure, built
from the typed answers (`answers.py`), so that a report's shape is written once. The
reporting service writes them as CSV or xlsx (`shared.spreadsheets`, which keeps any cell
from starting a formula); `ketnghia report` draws the same tables in the terminal."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import TypeAdapter

from services.reporting.entrypoints.answers import (
    BeneficiaryFigures,
    CategoryFigures,
    CommuneFigures,
    CommuneReport,
    CoverageReport,
    DistrictFigures,
    DistrictReport,
    DrilledActivity,
    LeadRosterEntry,
    PeriodFigures,
    PlansReport,
    ProvinceSummary,
    QuantityFigures,
    SplitPredecessor,
    SponsorUnitFigures,
    SponsorUnitReport,
    Totals,
    YearFigures,
)
from shared.catalogue import BENEFICIARY_GROUPS, BENEFICIARY_KINDS, CATEGORIES
from shared.spreadsheets import Cell

A = TypeVar("A")
Rows = list[list[Cell]]


@dataclass(frozen=True)
class Export(Generic[A]):
    """A report as one table: the answer's model (what the route declares it answers),
    the table's headers, and its rows from the typed answer."""

    shape: type[A]
    headers: list[str]
    rows: Callable[[A], Rows]
    _adapter: TypeAdapter[A] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_adapter", TypeAdapter(self.shape))

    def read(self, answer: object) -> A:
        """The answer as the service layer built it (dicts and lists), typed."""
        return self._adapter.validate_python(answer)

    def read_json(self, answer: str | bytes) -> A:
        """The answer as the route sent it (JSON), typed."""
        return self._adapter.validate_json(answer)


FIGURE_HEADERS = ["Mục", "Chi tiết", "Giá trị (VND)", "Số hoạt động / số lượng"]


def commune_figures(report: CommuneReport) -> Rows:
    """Xã × giai đoạn: the figures, section by section; the split old communes, mapped."""
    return [
        *_totals(report.totals),
        *_periods(report.by_period),
        *_categories(report.by_category),
        *_sponsor_units(report.by_sponsor_unit),
        *_quantities(report.quantities),
        *_beneficiaries(report.beneficiaries),
        *_split(report.split_predecessors or []),
    ]


def province_figures(report: ProvinceSummary) -> Rows:
    """Tổng hợp tỉnh: its counts above the money, then the figures and the lead roster."""
    counts: Rows = [
        ["Số đơn vị kết nghĩa", "", None, report.sponsor_units],
        ["Số xã (thôn) được giúp đỡ", "", None, report.communes],
        ["Số huyện được giúp đỡ", "", None, report.districts],
        ["Số phân công", "", None, report.assignments],
    ]
    return [
        *counts,
        *_totals(report.totals),
        *_periods(report.by_period),
        *_years(report.by_year),
        *_categories(report.by_category),
        *_districts(report.by_district),
        *_leads(report.lead_roster),
        *_split(report.split_predecessors or []),
    ]


def district_figures(report: DistrictReport) -> Rows:
    """Huyện kết nghĩa: the figures, and by the commune each activity was recorded at."""
    return [
        *_totals(report.totals),
        *_periods(report.by_period),
        *_categories(report.by_category),
        *_sponsor_units(report.by_sponsor_unit),
        *_quantities(report.quantities),
        *_beneficiaries(report.beneficiaries),
        *_communes(report.by_commune),
    ]


def _totals(totals: Totals) -> Rows:
    return [["Tổng cộng", "", totals.value_vnd, totals.activities]]


def _periods(periods: Iterable[PeriodFigures]) -> Rows:
    return [
        ["Theo năm, quý", f"Quý {p.quarter}/{p.year}", p.value_vnd, p.activities] for p in periods
    ]


def _years(years: Iterable[YearFigures]) -> Rows:
    return [["Theo năm", str(y.year), y.value_vnd, y.activities] for y in years]


def _categories(categories: Iterable[CategoryFigures]) -> Rows:
    return [
        ["Theo hạng mục", CATEGORIES.get(c.category, c.category), c.value_vnd, c.activities]
        for c in categories
    ]


def _sponsor_units(units: Iterable[SponsorUnitFigures]) -> Rows:
    return [
        ["Theo đơn vị (phần đóng góp)", u.name or u.sponsor_unit_id, u.value_vnd, u.activities]
        for u in units
    ]


def _quantities(quantities: Iterable[QuantityFigures]) -> Rows:
    return [
        ["Số lượng", f"{CATEGORIES.get(q.category, q.category)} ({q.unit})", None, q.amount]
        for q in quantities
    ]


def _beneficiaries(beneficiaries: Iterable[BeneficiaryFigures]) -> Rows:
    return [
        ["Đối tượng hưởng lợi",
         f"{BENEFICIARY_KINDS.get(b.kind, b.kind)} – {BENEFICIARY_GROUPS.get(b.group, b.group)}",
         None, b.count]
        for b in beneficiaries
    ]  # fmt: skip


def _districts(districts: Iterable[DistrictFigures]) -> Rows:
    return [
        ["Theo huyện kết nghĩa", d.name or d.code, d.value_vnd, d.activities] for d in districts
    ]


def _communes(communes: Iterable[CommuneFigures]) -> Rows:
    return [
        ["Theo xã (nơi ghi nhận)", c.name or c.code, c.value_vnd, c.activities] for c in communes
    ]


def _leads(roster: Iterable[LeadRosterEntry]) -> Rows:
    return [
        ["Chủ trì", f"{r.year}: {r.target_name or r.target_code}", None, r.lead] for r in roster
    ]


def _split(predecessors: Iterable[SplitPredecessor]) -> Rows:
    return [
        ["Xã cũ bị chia (không chia số liệu)", f"{s.old_name} → {', '.join(s.successors)}",
         s.value_vnd, s.activities]
        for s in predecessors
    ]  # fmt: skip


COVERAGE_HEADERS = ["Mã phân công", "Loại", "Phiên bản", "Mã xã", "Tên xã"]


def coverage(report: CoverageReport) -> Rows:
    return [
        [r.assignment_id, r.target_kind, r.edition, r.code, r.name] for r in report.without_activity
    ]


PLAN_HEADERS = ["Mã phân công", "Mã cam kết", "Nội dung", "Quý", "Số hoạt động", "Đã thực hiện"]


def plans(report: PlansReport) -> Rows:
    return [
        [c.assignment_id, c.commitment_id, c.description, c.quarter, c.activities,
         "Có" if c.fulfilled else "Chưa"]
        for c in report.commitments
    ]  # fmt: skip


UNIT_HEADERS = ["Năm", "Phiên bản", "Mã xã", "Tên xã", "Giá trị (VND)", "Số hoạt động"]


def sponsor_unit(report: SponsorUnitReport) -> Rows:
    rows: Rows = [
        [r.year, r.commune.edition, r.commune.code, r.commune.name, r.value_vnd, r.activities]
        for r in report.activities
    ]
    rows += [
        [year, None, None, "Được phân công nhưng chưa có hoạt động", 0, 0]
        for year in report.assigned_years_without_activity
    ]
    return rows


ACTIVITY_HEADERS = [
    "Ngày", "Phiên bản", "Mã xã", "Hạng mục", "Nội dung", "Giá trị (VND)",
    "Đơn vị đóng góp", "Mã hoạt động", "Lần sửa",
]  # fmt: skip


def activities(listed: list[DrilledActivity]) -> Rows:
    """The activities behind a figure, one row each; co-funders as `name: value` pairs."""
    return [
        [a.occurred_on, a.commune.edition, a.commune.code, a.label, a.description, a.value_vnd,
         "; ".join(f"{c.name or c.sponsor_unit_id}: {c.value_vnd}" for c in a.contributions),
         a.activity_id, a.version]
        for a in listed
    ]  # fmt: skip


COMMUNE = Export(CommuneReport, FIGURE_HEADERS, commune_figures)
PROVINCE = Export(ProvinceSummary, FIGURE_HEADERS, province_figures)
DISTRICT = Export(DistrictReport, FIGURE_HEADERS, district_figures)
COVERAGE = Export(CoverageReport, COVERAGE_HEADERS, coverage)
PLANS = Export(PlansReport, PLAN_HEADERS, plans)
SPONSOR_UNIT = Export(SponsorUnitReport, UNIT_HEADERS, sponsor_unit)
ACTIVITIES = Export(list[DrilledActivity], ACTIVITY_HEADERS, activities)
