"""What a province records about its communes: villages under them, and classifications
(especially disadvantaged, ethnic-minority share, poverty rate...) with a date and source.

A commune is always named by its edition and code (`CommuneRef`), never by name.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from services.registry.domain.admin_units import Edition, Level
from shared import contract
from shared.contract import CommuneClassified, Event, EventSourced, VillageRegistered
from shared.errors import RuleViolation
from shared.events import unit_key


@dataclass(frozen=True)
class CommuneRef:
    edition: Edition
    code: str

    def data(self) -> contract.Commune:
        return contract.Commune(edition=self.edition, code=self.code)

    @classmethod
    def of(cls, data: contract.Commune) -> "CommuneRef":
        return cls(Edition(data.edition), data.code)

    @property
    def partition_key(self) -> str:
        return unit_key(Level.COMMUNE, self.edition, self.code)


class VillageKind(StrEnum):
    THON = "thôn"
    BAN = "bản"
    XOM = "xóm"
    BUON = "buôn"
    LANG = "làng"
    AP = "ấp"
    TO_DAN_PHO = "tổ dân phố"


@dataclass
class Village(EventSourced):
    id: str
    province: str
    commune: CommuneRef
    kind: VillageKind
    name: str  # "Bản Huổi Sáy", as the commune names it
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise RuleViolation("name", "thiếu tên thôn, bản / the village's name is missing")

    @property
    def stream_id(self) -> str:
        return self.id

    @property
    def partition_key(self) -> str:
        """Its commune's key: one commune's events stay in order."""
        return self.commune.partition_key

    def register(self) -> None:
        self._record(
            VillageRegistered(
                village_id=self.id,
                province=self.province,
                commune=self.commune.data(),
                kind=self.kind,
                name=self.name.strip(),
            )
        )

    def apply(self, event: Event) -> None:
        """A village's one event is its registration, which made it."""
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "Village":
        data = events[0].data
        if not isinstance(data, VillageRegistered):
            raise ValueError("a village's history starts with its registration")
        commune = CommuneRef.of(data.commune)
        village = cls(data.village_id, data.province, commune, VillageKind(data.kind), data.name)
        for event in events:
            village.apply(event)
        return village


class ClassificationKind(StrEnum):
    ESPECIALLY_DISADVANTAGED = "especially_disadvantaged"
    PURELY_ETHNIC_MINORITY = "purely_ethnic_minority"
    LAND_BORDER = "land_border"
    ETHNIC_MINORITY_SHARE = "ethnic_minority_share"
    POOR_NEAR_POOR_RATE = "poor_near_poor_rate"
    NEW_RURAL_CRITERIA_MET = "new_rural_criteria_met"


FLAGS = {
    ClassificationKind.ESPECIALLY_DISADVANTAGED,
    ClassificationKind.PURELY_ETHNIC_MINORITY,
    ClassificationKind.LAND_BORDER,
}
PERCENTAGES = {ClassificationKind.ETHNIC_MINORITY_SHARE, ClassificationKind.POOR_NEAR_POOR_RATE}
NEW_RURAL_CRITERIA = 19  # the national set of criteria for a new-rural-area commune


@dataclass(frozen=True)
class Classification:
    """A fact about a commune from `effective_on`, as a named source states it. A later
    classification of the same kind supersedes it from its own date; none is overwritten."""

    province: str
    commune: CommuneRef
    kind: ClassificationKind
    value: bool | Decimal | int
    effective_on: date
    source: str  # "Quyết định 861/QĐ-TTg ngày 04/6/2021", "báo cáo của UBND xã"

    def __post_init__(self) -> None:
        self._check_value()
        if not self.source.strip():
            raise RuleViolation("source", "cần ghi nguồn / the source is missing")

    def _check_value(self) -> None:
        value = self.value
        if self.kind in FLAGS:
            if not isinstance(value, bool):
                raise RuleViolation("value", "giá trị phải là true/false / must be true or false")
        elif isinstance(value, bool):
            raise RuleViolation("value", "giá trị phải là một số / must be a number")
        elif self.kind in PERCENTAGES:
            if not 0 <= value <= 100:
                raise RuleViolation("value", "tỷ lệ phải từ 0 đến 100 / a percentage is 0-100")
        elif not (isinstance(value, int) and 0 <= value <= NEW_RURAL_CRITERIA):
            raise RuleViolation(
                "value",
                f"số tiêu chí là số nguyên từ 0 đến {NEW_RURAL_CRITERIA} / "
                f"a whole number of criteria, 0-{NEW_RURAL_CRITERIA}",
            )

    def recorded(self) -> Event:
        return Event(
            CommuneClassified(
                province=self.province,
                commune=self.commune.data(),
                kind=self.kind,
                value=self.value,  # a decimal travels as text, never as a float
                effective_on=self.effective_on,
                source=self.source.strip(),
            )
        )


@dataclass
class CommuneClassifications(EventSourced):
    """A commune's classifications, one stream: they only accumulate (a later one of a
    kind supersedes from its own date), so a new one needs no caller's version."""

    commune: CommuneRef
    province: str  # of the events it decides: the province that classifies
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    @property
    def stream_id(self) -> str:
        return classifications_stream(self.commune)

    @property
    def partition_key(self) -> str:
        return self.commune.partition_key

    def classify(self, classification: Classification) -> None:
        self._record(classification.recorded().data)

    def apply(self, event: Event) -> None:
        if not isinstance(event.data, CommuneClassified):
            raise ValueError(f"not a classification: {event.type}")
        self.province = event.data.province  # the province that classified it last
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "CommuneClassifications":
        first = events[0].data
        if not isinstance(first, CommuneClassified):
            raise ValueError(f"not a classification: {events[0].type}")
        classifications = cls(CommuneRef.of(first.commune), first.province)
        for event in events:
            classifications.apply(event)
        return classifications


def classifications_stream(commune: CommuneRef) -> str:
    return f"classifications-{commune.edition}-{commune.code}"
