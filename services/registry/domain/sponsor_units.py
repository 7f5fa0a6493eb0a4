"""Sponsor units: the provincial bodies, organisations and enterprises that twin with
communes (cơ quan, đơn vị, tổ chức, doanh nghiệp kết nghĩa)."""

from dataclasses import dataclass
from enum import StrEnum

from services.registry.domain.events import event_type
from shared.errors import RuleViolation
from shared.events import Event


class SponsorUnitKind(StrEnum):
    DEPARTMENT = "department"
    MASS_ORGANISATION = "mass_organisation"
    ARMED_FORCES = "armed_forces"
    BANK = "bank"
    ENTERPRISE = "enterprise"
    LOCAL_GOVERNMENT = "local_government"


@dataclass(frozen=True)
class SponsorUnit:
    id: str
    province: str
    name: str  # "Sở Công Thương tỉnh Bình Thuận"
    kind: SponsorUnitKind
    parent_id: str | None = None  # e.g. a bank branch under its bank

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise RuleViolation("name", "thiếu tên đơn vị / the unit's name is missing")
        if self.parent_id == self.id:
            raise RuleViolation(
                "parent_id", "đơn vị không thể là cấp trên của chính nó / its own parent"
            )

    def registered(self) -> Event:
        return Event(
            event_type("sponsor_unit", "registered.v1"),
            {
                "sponsor_unit_id": self.id,
                "province": self.province,
                "name": self.name.strip(),
                "kind": self.kind,
                "parent_id": self.parent_id,
            },
        )
