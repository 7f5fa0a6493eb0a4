"""The shapes of the activities service's HTTP requests, each turning itself into the
domain's terms. Business rules (no negative value, shares adding up, known categories...)
are the domain's, answered with the same 422 shape and a Vietnamese reason."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from services.activities.domain.activities import (
    Beneficiaries,
    Contribution,
    Facts,
    Quantity,
)
from services.activities.domain.locks import Lock
from services.activities.domain.plans import Commitment
from shared.bounds import (
    COMMUNE_CODE_PATTERN,
    DESCRIPTION_LENGTH,
    EVIDENCE_LENGTH,
    ID_LENGTH,
    LABEL_LENGTH,
    MAX_AMOUNT,
    MAX_BENEFICIARY_ROWS,
    MAX_COMMITMENTS,
    MAX_CONTRIBUTIONS,
    MAX_COUNT,
    MAX_EVIDENCE,
    MAX_VND,
    NAME_LENGTH,
    Reason,
    Visible,
)
from shared.editions import EDITIONS
from shared.errors import RuleViolation

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Id = Annotated[str, Field(default_factory=lambda: str(uuid.uuid4()), pattern=UUID_PATTERN)]
Code = Annotated[str, Field(pattern=COMMUNE_CODE_PATTERN)]
Slug = Annotated[
    str,
    Field(
        default_factory=lambda: str(uuid.uuid4()),
        pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
        description="a short id of your choosing, e.g. q2-cameras; default a UUID",
    ),
]


Ref = Annotated[str, Field(max_length=ID_LENGTH)]
Label = Annotated[str, Field(max_length=LABEL_LENGTH)]
Vnd = Annotated[int, Field(le=MAX_VND, description="VND, integer, never negative")]
"""Below zero is the domain's to refuse (its reason in Vietnamese); above the maximum,
the contract's."""


class CommuneIn(BaseModel):
    edition: Label = Field(examples=["pre-2025", "2025"])
    code: Code


class ContributionIn(BaseModel):
    sponsor_unit_id: Ref
    value_vnd: Vnd


class QuantityIn(BaseModel):
    amount: Decimal = Field(le=MAX_AMOUNT, max_digits=18, decimal_places=6)
    unit: Label = Field(examples=["chiếc", "con", "cây", "suất", "hộ", "lớp", "km"])

    def to_domain(self) -> Quantity:
        return Quantity(self.amount, self.unit)


class BeneficiariesIn(BaseModel):
    count: int = Field(le=MAX_COUNT)
    kind: Label = Field(examples=["households", "persons", "pupils"])
    group: Label = Field(examples=["poor", "near_poor", "policy_families", "pupils"])


class FactsIn(BaseModel):
    assignment_id: Ref | None = Field(
        default=None,
        description="mã phân công; bỏ trống thì tìm theo xã, ngày và đơn vị / the assignment; "
        "left out, it is found from the commune, the day and the acting units",
    )
    commune: CommuneIn
    village_id: Ref | None = None
    occurred_on: date
    category: Label = Field(examples=["scholarship_school_equipment"])
    description: Annotated[str, Visible] = Field(max_length=DESCRIPTION_LENGTH)
    value_vnd: Vnd
    sponsor_unit_id: Ref | None = Field(
        default=None, description="the acting unit, when one unit carries the whole value"
    )
    sponsor_unit: Annotated[str, Visible] | None = Field(
        default=None,
        max_length=NAME_LENGTH,
        description="tên đơn vị thay cho sponsor_unit_id / the acting unit by its name",
    )
    contributions: list[ContributionIn] | None = Field(
        default=None,
        max_length=MAX_CONTRIBUTIONS,
        description="co-funded: each unit's share, adding up to value_vnd",
    )
    funding_source: Label = "own_budget"
    quantity: QuantityIn | None = None
    beneficiaries: list[BeneficiariesIn] = Field(default=[], max_length=MAX_BENEFICIARY_ROWS)
    evidence: list[Annotated[str, Field(max_length=EVIDENCE_LENGTH)]] = Field(
        default=[], max_length=MAX_EVIDENCE
    )
    commitment_id: Ref | None = None

    def to_domain(self) -> Facts:
        if self.assignment_id is None:
            raise RuleViolation("assignment_id", "thiếu mã phân công / no assignment_id")
        if (self.contributions is None) == (self.sponsor_unit_id is None):
            raise RuleViolation(
                "sponsor_unit_id",
                "ghi một đơn vị (sponsor_unit_id) hoặc phần của từng đơn vị (contributions) / "
                "give either sponsor_unit_id or contributions",
            )
        shares = (
            [Contribution(c.sponsor_unit_id, c.value_vnd) for c in self.contributions]
            if self.contributions is not None
            else [Contribution(str(self.sponsor_unit_id), self.value_vnd)]
        )
        return Facts(
            assignment_id=self.assignment_id,
            commune_edition=self.commune.edition,
            commune_code=self.commune.code,
            village_id=self.village_id,
            occurred_on=self.occurred_on,
            category=self.category,
            description=self.description,
            value_vnd=self.value_vnd,
            contributions=tuple(shares),
            funding_source=self.funding_source,
            quantity=self.quantity.to_domain() if self.quantity else None,
            beneficiaries=tuple(
                Beneficiaries(b.count, b.kind, b.group) for b in self.beneficiaries
            ),
            evidence=tuple(self.evidence),
            commitment_id=self.commitment_id,
        )


class ActivityIn(FactsIn):
    id: Id


class CorrectionIn(FactsIn):
    reason: Annotated[Reason, Visible]


class VoidIn(BaseModel):
    reason: Annotated[Reason, Visible]


class LockIn(BaseModel):
    id: Slug
    year: int = Field(ge=2000, le=2100)
    quarter: int | None = Field(default=None, description="1-4; none locks the whole year")
    commune: CommuneIn | None = Field(default=None, description="none locks the province")
    reason: Annotated[Reason, Visible]
    by: str | None = Field(
        default=None,
        max_length=NAME_LENGTH,
        description="who locks (the office); default the signed-in coordinator's name",
    )

    def to_domain(self, signed_in: str) -> Lock:
        if self.commune and self.commune.edition not in EDITIONS:
            raise RuleViolation(
                "commune.edition", f"phiên bản phải là {' hoặc '.join(EDITIONS)} / unknown edition"
            )
        commune = (self.commune.edition, self.commune.code) if self.commune else None
        return Lock(self.id, self.year, self.quarter, commune, self.reason, self.by or signed_in)


class UnlockIn(BaseModel):
    reason: Annotated[Reason, Visible]
    by: str | None = Field(
        default=None,
        max_length=NAME_LENGTH,
        description="who unlocks; default the signed-in coordinator's name",
    )


class CommitmentIn(BaseModel):
    id: Slug
    description: Annotated[str, Visible] = Field(max_length=DESCRIPTION_LENGTH)
    category: Label | None = None
    quarter: int | None = None
    planned_value_vnd: int | None = Field(
        default=None, ge=0, le=MAX_VND, description="kinh phí dự kiến (VND)"
    )
    planned_quantity: QuantityIn | None = Field(default=None, description="số lượng dự kiến")

    def to_domain(self) -> Commitment:
        quantity = self.planned_quantity
        return Commitment(
            self.id,
            self.description,
            self.category,
            self.quarter,
            self.planned_value_vnd,
            quantity.to_domain() if quantity else None,
        )


class PlanIn(BaseModel):
    year: int = Field(ge=2000, le=2100)
    commitments: list[CommitmentIn] = Field(default=[], max_length=MAX_COMMITMENTS)
