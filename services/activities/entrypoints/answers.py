"""The shapes of the activities service's HTTP answers, so that the OpenAPI document says
what each route answers. They are what the service layer's queries build, key for key.

Reads return those dicts and FastAPI checks them against these models (`response_model=`).
Writes answer through `dependencies.once` (a `JSONResponse`, replayed as first sent for an
`Idempotency-Key`), which FastAPI does not check: the models document them.

An activity's facts are its events' data: keys an older event did not carry (the village,
the quantity, the commitment) stay absent from the answer (`response_model_exclude_unset`).
"""

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from shared.answers import ActorOut, Moment


class CatalogueOut(BaseModel):
    """Danh mục: mã → nhãn tiếng Việt / code → Vietnamese label."""

    categories: dict[str, str] = Field(description="hạng mục hỗ trợ / categories of support")
    quantity_units: list[str] = Field(description="đơn vị tính / units of quantity")
    beneficiary_kinds: dict[str, str] = Field(description="loại đối tượng / households, persons…")
    beneficiary_groups: dict[str, str] = Field(description="nhóm đối tượng / poor, near poor…")
    funding_sources: dict[str, str] = Field(description="nguồn kinh phí / funding sources")


class CommuneOut(BaseModel):
    edition: str = Field(examples=["pre-2025", "2025"])
    code: str


class ContributionOut(BaseModel):
    sponsor_unit_id: str
    value_vnd: int = Field(description="phần của đơn vị / the unit's share (VND)")


class QuantityOut(BaseModel):
    amount: str = Field(description="a decimal, as text", examples=["20", "1.5"])
    unit: str = Field(examples=["con", "km"])


class BeneficiariesOut(BaseModel):
    count: int
    kind: str = Field(examples=["households"])
    group: str = Field(examples=["poor"])


class ActivityOut(BaseModel):
    """Hoạt động hỗ trợ / an activity as it stands; `version` is its ETag."""

    id: str
    province: str
    voided: bool = Field(description="đã hủy / voided: it no longer counts")
    version: int
    assignment_id: str
    commune: CommuneOut = Field(description="the commune as recorded")
    village_id: str | None = None
    occurred_on: date
    category: str
    description: str
    value_vnd: int = Field(description="VND")
    contributions: list[ContributionOut] = Field(description="each unit's share of the value")
    funding_source: str
    quantity: QuantityOut | None = None
    beneficiaries: list[BeneficiariesOut]
    evidence: list[str]
    commitment_id: str | None = None


class ActivityEventOut(BaseModel):
    """One event of an activity's history: its recording, a correction, its void."""

    version: int
    type: str = Field(examples=["vn.ketnghia.activity.corrected.v1"])
    occurred_at: Moment
    correlation_id: UUID
    actor: ActorOut | None
    data: dict[str, Any] = Field(description="the event's data, as recorded (with a reason)")


class ActivityWithHistoryOut(ActivityOut):
    history: list[ActivityEventOut] = Field(description="oldest first")


class PlanListed(BaseModel):
    """Kế hoạch năm / a yearly plan, counted."""

    year: int
    commitments: int = Field(description="số nội dung cam kết / how many commitments")
    planned_value_vnd: int | None = Field(description="kinh phí dự kiến / none: none planned")


class CommitmentVersusOut(BaseModel):
    """A commitment beside what was done for it."""

    id: str
    description: str
    category: str | None
    quarter: int | None
    activities: list[str] = Field(description="the activities that fulfil it (not voided)")
    fulfilled: bool
    planned_value_vnd: int | None
    actual_value_vnd: int
    planned_quantity: QuantityOut | None
    actual_quantity: QuantityOut | None = Field(description="done, in the planned unit")


class PlanOut(BaseModel):
    """Kế hoạch và thực hiện / the year's plan and what was done."""

    assignment_id: str
    year: int
    commitments: list[CommitmentVersusOut]


class LockOut(BaseModel):
    """Khóa kỳ báo cáo / a locked period, in force (`active`) or unlocked."""

    province: str
    id: str
    year: int
    quarter: int | None = Field(description="none: the whole year")
    commune_edition: str | None = Field(description="none: the whole province")
    commune_code: str | None
    reason: str
    locked_by: str
    locked_at: Moment | None
    unlocked_at: Moment | None
    unlock_reason: str | None
    unlocked_by: str | None
    active: bool
