"""The shapes of the registry's HTTP requests; each turns itself into the domain's terms.

Field checks that need no database (formats, ranges) are pydantic's; the domain's rules
(a lead is a member, years in the period...) are checked by the domain and answered with
the same 422 shape.
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.registry.domain.admin_units import Edition
from services.registry.domain.assignments import Membership, Target, TargetKind
from services.registry.domain.communes import ClassificationKind, VillageKind
from services.registry.domain.programmes import LegalBasis
from services.registry.domain.sponsor_units import SponsorUnitKind
from shared.bounds import (
    COMMUNE_CODE_PATTERN,
    DESCRIPTION_LENGTH,
    ID_LENGTH,
    MAX_DISTRICT_COMMUNES,
    MAX_LEGAL_BASES,
    MAX_MEMBERS,
    NAME_LENGTH,
    Visible,
)

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_LENGTH), Visible
]
Ref = Annotated[str, Field(max_length=ID_LENGTH)]
Code = Annotated[str, StringConstraints(pattern=COMMUNE_CODE_PATTERN)]
Year = Annotated[int, Field(ge=2000, le=2100)]


def new_id() -> str:
    return str(uuid.uuid4())


Id = Annotated[
    str,
    Field(
        default_factory=new_id,
        description="UUID; give one to make a retried create answer 409 instead of a copy",
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    ),
]


class SponsorUnitIn(BaseModel):
    id: Id
    province: Code = Field(description="mã tỉnh, e.g. 60 (Bình Thuận)")
    name: Name
    kind: SponsorUnitKind
    parent_id: Ref | None = None


class LegalBasisIn(BaseModel):
    number: str = Field(max_length=NAME_LENGTH, examples=["2072/QĐ-UBND", "417-TB/TU"])
    issued_on: date
    issuer: Name = Field(examples=["UBND tỉnh Điện Biên"])

    def to_domain(self) -> LegalBasis:
        return LegalBasis(self.number, self.issued_on, self.issuer)


class ProgrammeIn(BaseModel):
    id: Id
    province: Code
    name: Name
    start_year: Year
    end_year: Year
    scope: str = Field(default="", max_length=DESCRIPTION_LENGTH)
    legal_bases: list[LegalBasisIn] = Field(default=[], max_length=MAX_LEGAL_BASES)


class VillageIn(BaseModel):
    id: Id
    province: Code
    kind: VillageKind
    name: Name


class ClassificationIn(BaseModel):
    province: Code
    kind: ClassificationKind
    value: bool | int | Decimal = Field(
        description="true/false for the flags, a percentage 0-100, or a number of criteria"
    )
    effective_on: date
    source: Name


class TargetIn(BaseModel):
    kind: TargetKind
    edition: Edition
    code: Code = Field(description="mã xã (hoặc mã huyện / district code)")
    village_id: Ref | None = None

    def to_domain(self) -> Target:
        return Target(self.kind, self.edition, self.code, self.village_id)


class MembershipIn(BaseModel):
    sponsor_unit_id: Ref
    joined_on: date
    left_on: date | None = None

    def to_domain(self) -> Membership:
        return Membership(self.sponsor_unit_id, self.joined_on, self.left_on)


class AssignmentIn(BaseModel):
    id: Id
    programme_id: Ref
    target: TargetIn
    legal_basis: LegalBasisIn | None = None
    members: list[MembershipIn] = Field(min_length=1, max_length=MAX_MEMBERS)
    leads: dict[Year, Ref] = Field(
        default={}, description="đơn vị chủ trì từng năm / the lead unit of each year"
    )


class TargetOut(BaseModel):
    kind: str
    edition: str
    code: str
    name: str | None = Field(description="tên xã (huyện) / the unit's name")
    current: bool = Field(description="the target today (after a succession, the 2025 one)")


class MemberOut(BaseModel):
    sponsor_unit_id: str
    name: str
    joined_on: date
    left_on: date | None


class LeadOut(BaseModel):
    sponsor_unit_id: str
    name: str


class AssignmentListed(BaseModel):
    """An assignment of a province, with names: what a coordinator reads in a list."""

    id: str
    programme_id: str
    programme_name: str
    start_year: int
    end_year: int
    ended_on: date | None
    version: int
    targets: list[TargetOut] = Field(description="as made first, then its successors")
    members: list[MemberOut]
    leads: dict[str, LeadOut] = Field(description="đơn vị chủ trì theo năm / lead per year")


class LeadIn(BaseModel):
    sponsor_unit_id: Ref


class LeaveIn(BaseModel):
    left_on: date


class SuccessionIn(BaseModel):
    successor_code: Code | None = Field(
        default=None, description="chỉ cần khi xã cũ bị chia / needed only for a split commune"
    )
    reason: Name = "Sắp xếp đơn vị hành chính 01/7/2025"


class ContinuationIn(BaseModel):
    communes: list[Code] = Field(
        min_length=1,
        max_length=MAX_DISTRICT_COMMUNES,
        description="mã các xã từ 01/7/2025 tiếp nhận địa bàn của huyện / the 2025 communes",
    )
    reason: Name = "Sắp xếp đơn vị hành chính 01/7/2025: không còn cấp huyện"


class EndIn(BaseModel):
    ended_on: date
    reason: Name
