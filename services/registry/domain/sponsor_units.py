"""Sponsor units: the provincial bodies, organisations and enterprises that twin with
communes (cơ quan, đơn vị, tổ chức, doanh nghiệp kết nghĩa)."""

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from services.registry.domain.province_entries import ProvinceEntry
from shared.contract import Event, EventSourced, SponsorUnitRegistered
from shared.errors import RuleViolation


class SponsorUnitKind(StrEnum):
    DEPARTMENT = "department"
    MASS_ORGANISATION = "mass_organisation"
    ARMED_FORCES = "armed_forces"
    BANK = "bank"
    ENTERPRISE = "enterprise"
    LOCAL_GOVERNMENT = "local_government"


@dataclass
class SponsorUnit(ProvinceEntry, EventSourced):
    id: str
    province: str
    name: str  # "Sở Công Thương tỉnh Bình Thuận"
    kind: SponsorUnitKind
    parent_id: str | None = None  # e.g. a bank branch under its bank
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise RuleViolation("name", "thiếu tên đơn vị / the unit's name is missing")
        if self.parent_id == self.id:
            raise RuleViolation(
                "parent_id", "đơn vị không thể là cấp trên của chính nó / its own parent"
            )

    def register(self) -> None:
        self._record(
            SponsorUnitRegistered(
                sponsor_unit_id=self.id,
                province=self.province,
                name=self.name.strip(),
                kind=self.kind,
                parent_id=self.parent_id,
            )
        )

    def apply(self, event: Event) -> None:
        """A unit's one event is its registration, which made it: nothing else to change."""
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "SponsorUnit":
        data = events[0].data
        if not isinstance(data, SponsorUnitRegistered):
            raise ValueError("a sponsor unit's history starts with its registration")
        kind = SponsorUnitKind(data.kind)
        unit = cls(data.sponsor_unit_id, data.province, data.name, kind, data.parent_id)
        for event in events:
            unit.apply(event)
        return unit


def same_name(name: str) -> str:
    """A unit's name as a province tells it apart: without case or extra spaces
    (diacritics count), so it registers "Sở Y tế" once however it is typed."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())
