"""The shapes of the registry's HTTP answers, so that the OpenAPI document says what each
route answers. They are what the service layer's queries build, key for key: the routes
return those dicts and FastAPI checks them against these models (`response_model=`).

The request shapes, and the assignment as listed for a province (`AssignmentListed`),
are in `schemas`.
"""

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.registry.domain.admin_units import Edition, Level, Share
from services.registry.domain.communes import ClassificationKind, VillageKind
from services.registry.domain.sponsor_units import SponsorUnitKind
from services.registry.entrypoints.schemas import MemberOut
from shared.answers import ActorOut, Moment


# -- administrative units -------------------------------------------------------------------
class AdminUnitOut(BaseModel):
    """Một đơn vị hành chính / an administrative unit of one edition."""

    edition: Edition
    level: Level
    code: str = Field(description="mã đơn vị / the unit's code in its edition")
    name: str = Field(examples=["Xã Hàm Cần"])
    short_name: str = Field(examples=["Hàm Cần"])
    search_key: str = Field(description="tên không dấu, chữ thường / the name folded for search")
    province_code: str
    parent_code: str | None = Field(description="mã huyện (tỉnh) / the unit above, if any")


class LinkedCommuneOut(AdminUnitOut):
    """A commune of the other edition, and how much of the old commune went into the new."""

    share: Share = Field(description="whole: sáp nhập toàn bộ / part: một phần (xã bị chia)")
    is_default: bool = Field(description="xã kế thừa chính / the main successor")


class PredecessorsOut(BaseModel):
    commune: AdminUnitOut = Field(description="xã từ 01/7/2025 / the 2025 commune")
    predecessors: list[LinkedCommuneOut] = Field(description="các xã trước 01/7/2025")


class LineageOut(BaseModel):
    old: AdminUnitOut = Field(description="xã trước 01/7/2025 / the pre-2025 commune")
    split: bool = Field(description="xã bị chia cho nhiều xã mới / split between new communes")
    successors: list[LinkedCommuneOut] = Field(description="main successor first")


# -- sponsor units and programmes -----------------------------------------------------------
class SponsorUnitOut(BaseModel):
    """Đơn vị kết nghĩa / a sponsor unit."""

    id: str
    province: str
    name: str
    kind: SponsorUnitKind
    parent_id: str | None


class UnitTargetOut(BaseModel):
    """An assignment a sponsor unit belongs to, with its current target."""

    assignment_id: str
    province: str
    programme_id: str
    start_year: int
    end_year: int
    ended_on: date | None
    target_kind: str = Field(examples=["commune", "village", "district"])
    target_edition: str = Field(examples=["pre-2025", "2025"])
    target_code: str
    village_id: str | None
    target_name: str | None = Field(description="tên xã (huyện) / the target's name")
    joined_on: date
    left_on: date | None
    lead_years: list[int] = Field(description="năm đơn vị chủ trì / the years the unit leads")


class LegalBasisOut(BaseModel):
    """Văn bản / a decision or notice the programme or assignment rests on."""

    number: str = Field(examples=["2072/QĐ-UBND"])
    issued_on: date
    issuer: str = Field(examples=["UBND tỉnh Điện Biên"])


class ProgrammeOut(BaseModel):
    """Chương trình kết nghĩa, giúp đỡ / a programme; `version` is its ETag."""

    id: str
    province: str
    name: str
    start_year: int
    end_year: int
    scope: str
    legal_bases: list[LegalBasisOut] = Field(description="as decided, then the amendments")
    version: int


class ProgrammeAssignmentOut(BaseModel):
    """An assignment of the programme, with its current target."""

    id: str
    version: int
    ended_on: date | None
    target_kind: str
    target_edition: str
    target_code: str
    village_id: str | None


# -- communes -------------------------------------------------------------------------------
class CommuneRefOut(BaseModel):
    edition: Edition
    code: str


class HelperUnitOut(BaseModel):
    id: str
    name: str
    kind: str
    lead: bool = Field(description="đơn vị chủ trì năm đó / leads that year")


class HelperOut(BaseModel):
    """An assignment helping the commune (or a village of it) on the day."""

    assignment_id: str
    province: str
    programme_id: str
    programme_name: str
    target_kind: str = Field(examples=["commune", "village"])
    village_id: str | None
    current_target: bool = Field(
        description="false: the assignment has continued on the commune's 2025 successor"
    )
    sponsor_units: list[HelperUnitOut] = Field(description="members that day")


class HelpersOut(BaseModel):
    commune: CommuneRefOut
    on: date
    assignments: list[HelperOut]


class VillageRegistered(BaseModel):
    """Thôn, bản vừa đăng ký / the village as registered."""

    id: str
    province: str
    kind: VillageKind
    name: str


class VillageOut(BaseModel):
    id: str
    province: str
    commune_edition: str
    commune_code: str
    kind: VillageKind
    name: str


class ClassificationOut(BaseModel):
    """Một phân loại của xã / a classification of the commune, in force from a day."""

    kind: ClassificationKind
    value: bool | int | float | str = Field(
        description="true/false, a number of criteria, or a percentage (a decimal as text)"
    )
    effective_on: date
    source: str
    position: int = Field(description="thứ tự ghi nhận / the order it was recorded in")


# -- assignments ----------------------------------------------------------------------------
class AssignmentTargetOut(BaseModel):
    assignment_id: str
    seq: int = Field(description="1 as made, 2 after a succession...")
    kind: str = Field(examples=["commune", "village", "district"])
    edition: str
    code: str
    village_id: str | None
    current: bool = Field(description="the target today")


class AssignmentOut(BaseModel):
    """Phân công giúp đỡ / an assignment; `version` is its ETag."""

    id: str
    programme_id: str
    province: str
    recorded_kind: str = Field(description="the target as the assignment was made")
    recorded_edition: str
    recorded_code: str
    recorded_village_id: str | None
    start_year: int
    end_year: int
    legal_basis: LegalBasisOut | None
    ended_on: date | None
    version: int
    continues: str | None = Field(description="the district assignment this one carries on")
    targets: list[AssignmentTargetOut] = Field(description="as made first, then successors")
    members: list[MemberOut]
    leads: dict[str, str] = Field(description="năm → đơn vị chủ trì / year → lead unit's id")
    continued_by: list[str] = Field(description="the 2025 commune assignments carrying it on")
    ends_on: date | None = Field(description="ended_on, and 30 June 2025 for a district's")


class AssignmentEventOut(BaseModel):
    """One event of an assignment's history."""

    version: int
    type: str = Field(examples=["vn.ketnghia.assignment.created.v1"])
    occurred_at: Moment
    event_id: UUID
    correlation_id: UUID
    actor: ActorOut | None
    data: dict[str, Any] = Field(description="the event's data, as recorded")


class LeadUnitOut(BaseModel):
    id: str
    name: str


class LeadOfYearOut(BaseModel):
    assignment_id: str
    year: int
    lead: LeadUnitOut | None = Field(description="none: no lead that year")
