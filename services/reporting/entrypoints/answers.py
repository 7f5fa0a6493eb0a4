"""The shapes of the reports as JSON, so that the OpenAPI document says what each route
answers. They are what `service_layer.reports` builds, key for key: the routes return
those dicts and FastAPI checks them against these models (`response_model=`); a CSV or
xlsx file is a `Response` of its own, which FastAPI passes as it is.

Keys a report gives only sometimes (`split_predecessors` when mapped, the scope's
`provinces` for a caller who reaches a commune through an assignment) stay absent when
absent (`response_model_exclude_unset`).
"""

from datetime import date

from pydantic import BaseModel, Field

from shared.answers import Moment


class ScopeOut(BaseModel):
    """Phạm vi báo cáo / which activities the report counts."""

    programme_id: str | None
    year: int | None
    quarter: int | None
    as_of: Moment | None = Field(description="đến thời điểm / only what was known then")
    edition: str = Field(examples=["as recorded", "mapped to 2025"])
    provinces: list[str] | None = Field(
        default=None,
        description="only activities recorded in these provinces (a caller reaching the "
        "commune through an assignment); absent otherwise",
    )


class CountedUpTo(BaseModel):
    """Where the projections stand on a topic partition: reproducible figures."""

    topic: str
    partition: int
    next_offset: int
    last_event_time: Moment | None


class Totals(BaseModel):
    value_vnd: int = Field(description="tổng giá trị / total value (VND)")
    activities: int = Field(description="số hoạt động / number of activities")


class PeriodFigures(BaseModel):
    year: int
    quarter: int
    value_vnd: int
    activities: int


class YearFigures(BaseModel):
    year: int
    value_vnd: int
    activities: int


class CategoryFigures(BaseModel):
    category: str
    label: str = Field(description="tên hạng mục / the category's Vietnamese label")
    value_vnd: int
    activities: int


class SponsorUnitFigures(BaseModel):
    sponsor_unit_id: str
    name: str | None
    value_vnd: int = Field(description="the unit's shares of co-funded activities")
    activities: int


class QuantityFigures(BaseModel):
    category: str
    label: str
    unit: str = Field(examples=["con", "km"])
    amount: str = Field(description="a decimal, as text", examples=["20", "1.5"])


class BeneficiaryFigures(BaseModel):
    kind: str
    group: str
    count: int
    label: str = Field(examples=["Hộ – Hộ nghèo"])


class SplitPredecessor(BaseModel):
    """An old commune split between several new ones: its figures, never divided."""

    old_code: str
    old_name: str | None
    successors: list[str] = Field(description="mã các xã mới / the 2025 communes")
    value_vnd: int
    activities: int


class CommuneNamed(BaseModel):
    edition: str = Field(examples=["pre-2025", "2025"])
    code: str
    name: str | None


class CommuneReport(BaseModel):
    """Xã × giai đoạn / a commune's figures in the scope."""

    commune: CommuneNamed
    scope: ScopeOut
    totals: Totals
    by_period: list[PeriodFigures]
    by_category: list[CategoryFigures]
    by_sponsor_unit: list[SponsorUnitFigures]
    quantities: list[QuantityFigures] = Field(description="per category and unit, never summed")
    beneficiaries: list[BeneficiaryFigures]
    counted_up_to: list[CountedUpTo]
    split_predecessors: list[SplitPredecessor] | None = Field(
        default=None, description="mapped only: old communes split with this one"
    )


class CommuneRef(BaseModel):
    edition: str
    code: str


class ContributionOut(BaseModel):
    sponsor_unit_id: str
    name: str | None = Field(default=None, description="tên đơn vị / the unit's name")
    value_vnd: int


class DrilledActivity(BaseModel):
    """An activity behind a commune report's figures (its version in force)."""

    activity_id: str
    version: int
    occurred_on: date
    commune: CommuneRef = Field(description="as recorded")
    category: str
    label: str
    value_vnd: int
    description: str
    contributions: list[ContributionOut]


class DistrictFigures(BaseModel):
    code: str
    name: str | None
    value_vnd: int
    activities: int


class LeadRosterEntry(BaseModel):
    year: int
    lead: str = Field(description="tên đơn vị chủ trì / the lead unit's name")
    target_kind: str
    target_code: str
    target_name: str | None


class ProvinceSummary(BaseModel):
    """Tổng hợp tỉnh / the figures a province publishes."""

    province: str
    scope: ScopeOut
    sponsor_units: int = Field(description="số đơn vị kết nghĩa / sponsor units")
    assignments: int
    communes: int = Field(description="số xã (thôn) được giúp / communes (villages) helped")
    districts: int = Field(description="số huyện kết nghĩa / districts twinned")
    totals: Totals
    by_year: list[YearFigures]
    by_period: list[PeriodFigures] = Field(description="theo năm và quý / by year and quarter")
    by_category: list[CategoryFigures]
    by_district: list[DistrictFigures]
    lead_roster: list[LeadRosterEntry]
    counted_up_to: list[CountedUpTo]
    split_predecessors: list[SplitPredecessor] | None = Field(
        default=None, description="mapped only: old communes split, one part in the province"
    )


class DistrictAssignment(BaseModel):
    assignment_id: str
    ends_on: date = Field(description="at the latest 30 June 2025")


class CommuneFigures(BaseModel):
    edition: str
    code: str
    name: str | None
    value_vnd: int
    activities: int


class DistrictReport(BaseModel):
    """Huyện kết nghĩa / a district's twinning, as recorded."""

    district: CommuneNamed = Field(description="the district (pre-2025)")
    province: str
    scope: ScopeOut
    assignments: list[DistrictAssignment]
    totals: Totals
    by_period: list[PeriodFigures]
    by_category: list[CategoryFigures]
    by_sponsor_unit: list[SponsorUnitFigures]
    quantities: list[QuantityFigures]
    beneficiaries: list[BeneficiaryFigures]
    by_commune: list[CommuneFigures] = Field(description="where activities were recorded")
    counted_up_to: list[CountedUpTo]


class Uncovered(BaseModel):
    assignment_id: str
    target_kind: str
    edition: str
    code: str
    name: str | None


class CoverageReport(BaseModel):
    """Xã được phân công nhưng chưa có hoạt động / assigned, and nothing recorded."""

    province: str
    scope: ScopeOut
    without_activity: list[Uncovered]
    counted_up_to: list[CountedUpTo]


class QuantityOut(BaseModel):
    amount: str = Field(description="a decimal, as text")
    unit: str


class CommitmentVersus(BaseModel):
    assignment_id: str
    commitment_id: str
    description: str
    category: str | None
    quarter: int | None
    activities: int = Field(description="how many activities fulfil it")
    fulfilled: bool
    planned_value_vnd: int | None
    actual_value_vnd: int
    planned_quantity: QuantityOut | None
    actual_quantity: QuantityOut | None = Field(description="done, in the planned unit")


class PlansReport(BaseModel):
    """Kế hoạch và thực hiện / each commitment of the year, and what fulfilled it."""

    province: str
    scope: ScopeOut
    commitments: list[CommitmentVersus]
    counted_up_to: list[CountedUpTo]


class UnitNamed(BaseModel):
    id: str
    name: str
    province: str


class UnitActivityFigures(BaseModel):
    year: int
    commune: CommuneNamed
    value_vnd: int = Field(description="the unit's shares")
    activities: int


class SponsorUnitReport(BaseModel):
    """Đơn vị / what a sponsor unit did, where, per year."""

    sponsor_unit: UnitNamed
    scope: ScopeOut
    activities: list[UnitActivityFigures]
    assigned_years_without_activity: list[int]
    counted_up_to: list[CountedUpTo]
