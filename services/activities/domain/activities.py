"""A support activity: what sponsor units did for a commune, on a day, worth how much.

An activity is never edited in place: a correction records the whole new account of it
with a reason, a void records why it no longer counts. Its history is its events.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from shared import bounds, contract
from shared.catalogue import (
    BENEFICIARY_GROUPS,
    BENEFICIARY_KINDS,
    CATEGORIES,
    FUNDING_SOURCES,
    QUANTITY_UNITS,
)
from shared.contract import (
    ActivityCorrected,
    ActivityFacts,
    ActivityRecorded,
    ActivityVoided,
    Event,
    EventSourced,
)
from shared.editions import EDITIONS
from shared.errors import RuleViolation
from shared.events import unit_key


@dataclass(frozen=True)
class Contribution:
    """A unit's part of the activity's value; co-funded activities list each unit once, so
    their shares add up to the value and nothing is counted twice."""

    sponsor_unit_id: str
    value_vnd: int


@dataclass(frozen=True)
class Beneficiaries:
    count: int
    kind: str  # households, persons, pupils
    group: str  # poor, near_poor, policy_families...


@dataclass(frozen=True)
class Quantity:
    amount: Decimal
    unit: str  # chiếc, con, cây, suất, hộ, lớp, km...

    def data(self) -> contract.Quantity:
        return contract.Quantity(amount=self.amount, unit=self.unit)

    @classmethod
    def of(cls, data: contract.Quantity) -> "Quantity":
        return cls(data.amount, data.unit)


@dataclass(frozen=True)
class Facts:
    """What an activity says. A correction replaces the facts whole."""

    assignment_id: str
    commune_edition: str  # the commune as recorded: its edition and code
    commune_code: str
    occurred_on: date
    category: str
    description: str
    value_vnd: int
    contributions: tuple[Contribution, ...]
    funding_source: str = "own_budget"
    quantity: Quantity | None = None
    beneficiaries: tuple[Beneficiaries, ...] = ()
    evidence: tuple[str, ...] = ()
    village_id: str | None = None
    commitment_id: str | None = None

    def __post_init__(self) -> None:
        self._check()

    @property
    def partition_key(self) -> str:
        return unit_key("commune", self.commune_edition, self.commune_code)

    @property
    def sponsor_unit_ids(self) -> list[str]:
        return [c.sponsor_unit_id for c in self.contributions]

    def _check(self) -> None:
        if self.commune_edition not in EDITIONS:
            raise RuleViolation("commune_edition", f"phiên bản phải là {' hoặc '.join(EDITIONS)}")
        if self.category not in CATEGORIES:
            raise RuleViolation(
                "category", f"không có hạng mục {self.category!r} / unknown category"
            )
        if not self.description.strip():
            raise RuleViolation("description", "thiếu nội dung / the description is missing")
        if len(self.description) > bounds.DESCRIPTION_LENGTH:
            raise RuleViolation(
                "description", f"nội dung dài quá {bounds.DESCRIPTION_LENGTH} ký tự / too long"
            )
        if self.value_vnd < 0:
            raise RuleViolation("value_vnd", "giá trị không được âm / the value cannot be negative")
        if self.value_vnd > bounds.MAX_VND:
            raise RuleViolation(
                "value_vnd", f"giá trị vượt quá {bounds.MAX_VND:,} VND / above the maximum"
            )
        if len(self.evidence) > bounds.MAX_EVIDENCE or any(
            len(e) > bounds.EVIDENCE_LENGTH for e in self.evidence
        ):
            raise RuleViolation(
                "evidence",
                f"nhiều nhất {bounds.MAX_EVIDENCE} minh chứng, mỗi cái "
                f"{bounds.EVIDENCE_LENGTH} ký tự / too many or too long",
            )
        if self.funding_source not in FUNDING_SOURCES:
            raise RuleViolation(
                "funding_source", f"không có nguồn kinh phí {self.funding_source!r} / unknown"
            )
        self._check_contributions()
        if self.quantity is not None:
            if self.quantity.amount <= 0:
                raise RuleViolation("quantity.amount", "số lượng phải lớn hơn 0 / must be positive")
            if self.quantity.amount > bounds.MAX_AMOUNT:
                raise RuleViolation(
                    "quantity.amount", f"số lượng vượt quá {bounds.MAX_AMOUNT:,} / too large"
                )
            if self.quantity.unit not in QUANTITY_UNITS:
                raise RuleViolation(
                    "quantity.unit",
                    f"đơn vị tính {self.quantity.unit!r} không có trong danh mục: "
                    f"{', '.join(QUANTITY_UNITS)} / unknown unit of quantity",
                )
        if len(self.beneficiaries) > bounds.MAX_BENEFICIARY_ROWS:
            raise RuleViolation(
                "beneficiaries", f"nhiều nhất {bounds.MAX_BENEFICIARY_ROWS} nhóm / too many rows"
            )
        for index, group in enumerate(self.beneficiaries):
            if group.count <= 0:
                raise RuleViolation(f"beneficiaries.{index}.count", "số người hưởng lợi phải > 0")
            if group.count > bounds.MAX_COUNT:
                raise RuleViolation(
                    f"beneficiaries.{index}.count",
                    f"số người hưởng lợi vượt quá {bounds.MAX_COUNT:,} / too many",
                )
            if group.kind not in BENEFICIARY_KINDS:
                raise RuleViolation(f"beneficiaries.{index}.kind", f"không có loại {group.kind!r}")
            if group.group not in BENEFICIARY_GROUPS:
                raise RuleViolation(
                    f"beneficiaries.{index}.group", f"không có nhóm {group.group!r}"
                )

    def _check_contributions(self) -> None:
        if not self.contributions:
            raise RuleViolation("contributions", "cần ít nhất một đơn vị / at least one unit")
        if len(self.contributions) > bounds.MAX_CONTRIBUTIONS:
            raise RuleViolation(
                "contributions", f"nhiều nhất {bounds.MAX_CONTRIBUTIONS} đơn vị / too many units"
            )
        if len(set(self.sponsor_unit_ids)) != len(self.contributions):
            raise RuleViolation("contributions", "một đơn vị được nêu hai lần / a unit twice")
        if any(c.value_vnd < 0 for c in self.contributions):
            raise RuleViolation("contributions", "phần đóng góp không được âm / negative share")
        if any(c.value_vnd > bounds.MAX_VND for c in self.contributions):
            raise RuleViolation("contributions", "phần đóng góp quá lớn / a share too large")
        shared = sum(c.value_vnd for c in self.contributions)
        if shared != self.value_vnd:
            raise RuleViolation(
                "contributions",
                f"tổng phần đóng góp {shared:,} ≠ giá trị {self.value_vnd:,} VND / "
                "the units' shares must add up to the value",
            )

    def recorded(self, activity_id: str, province: str) -> ActivityRecorded:
        return ActivityRecorded(activity_id=activity_id, province=province, **self._contract())

    def corrected(self, activity_id: str, reason: str) -> ActivityCorrected:
        return ActivityCorrected(activity_id=activity_id, reason=reason, **self._contract())

    def _contract(self) -> dict[str, Any]:
        """The facts as the contract's `ActivityFacts` fields, in its models."""
        return {
            "assignment_id": self.assignment_id,
            "commune": contract.Commune(edition=self.commune_edition, code=self.commune_code),
            "village_id": self.village_id,
            "occurred_on": self.occurred_on,
            "category": self.category,
            "description": self.description.strip(),
            "value_vnd": self.value_vnd,
            "contributions": [
                contract.Contribution(sponsor_unit_id=c.sponsor_unit_id, value_vnd=c.value_vnd)
                for c in self.contributions
            ],
            "funding_source": self.funding_source,
            "quantity": self.quantity.data() if self.quantity else None,
            "beneficiaries": [
                contract.Beneficiaries(count=b.count, kind=b.kind, group=b.group)
                for b in self.beneficiaries
            ],
            "evidence": list(self.evidence),
            "commitment_id": self.commitment_id,
        }

    def data(self) -> dict[str, Any]:
        """The facts in their JSON form, as the API shows them and as an imported row's id
        is made of (written out rather than dumped from the model: an import computes it
        for every row; a unit test holds the two equal)."""
        return {
            "assignment_id": self.assignment_id,
            "commune": {"edition": self.commune_edition, "code": self.commune_code},
            "village_id": self.village_id,
            "occurred_on": self.occurred_on.isoformat(),
            "category": self.category,
            "description": self.description.strip(),
            "value_vnd": self.value_vnd,
            "contributions": [
                {"sponsor_unit_id": c.sponsor_unit_id, "value_vnd": c.value_vnd}
                for c in self.contributions
            ],
            "funding_source": self.funding_source,
            "quantity": (
                {"amount": str(self.quantity.amount), "unit": self.quantity.unit}
                if self.quantity
                else None
            ),
            "beneficiaries": [
                {"count": b.count, "kind": b.kind, "group": b.group} for b in self.beneficiaries
            ],
            "evidence": list(self.evidence),
            "commitment_id": self.commitment_id,
        }

    @classmethod
    def of(cls, data: ActivityFacts) -> "Facts":
        """The facts a recording or correction carries, not checked again: they were when
        it was decided (a rule tightened since must not stop its history from loading)."""
        return cls._decided(
            assignment_id=data.assignment_id,
            commune_edition=data.commune.edition,
            commune_code=data.commune.code,
            village_id=data.village_id,
            occurred_on=data.occurred_on,
            category=data.category,
            description=data.description,
            value_vnd=data.value_vnd,
            contributions=tuple(
                Contribution(c.sponsor_unit_id, c.value_vnd) for c in data.contributions
            ),
            funding_source=data.funding_source,
            quantity=Quantity.of(data.quantity) if data.quantity else None,
            beneficiaries=tuple(
                Beneficiaries(b.count, b.kind, b.group) for b in data.beneficiaries
            ),
            evidence=tuple(data.evidence),
            commitment_id=data.commitment_id,
        )

    @classmethod
    def _decided(cls, **fields: Any) -> "Facts":
        facts = object.__new__(cls)
        for name, value in fields.items():
            object.__setattr__(facts, name, value)
        return facts


@dataclass
class Activity(EventSourced):
    id: str
    province: str
    facts: Facts
    voided: bool = False
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    @property
    def stream_id(self) -> str:
        return self.id

    @property
    def partition_key(self) -> str:
        """Its commune as recorded: a correction keeps it, so its events stay in order."""
        return self.facts.partition_key

    @classmethod
    def record(cls, activity_id: str, province: str, facts: Facts) -> "Activity":
        activity = cls(activity_id, province, facts)
        json = {"activity_id": activity_id, "province": province, **facts.data()}
        activity._record(facts.recorded(activity_id, province), json)
        return activity

    def correct(self, facts: Facts, reason: str) -> None:
        """Record the whole new account; the commune stays, so that one commune's events
        keep their order on one Kafka key (to move it: void, then record anew)."""
        self._check_not_voided()
        _check_reason(reason)
        if facts.partition_key != self.facts.partition_key:
            raise RuleViolation(
                "commune_code",
                "không sửa sang xã khác: hãy hủy và ghi lại / "
                "a correction keeps the commune: void and record again instead",
            )
        if facts == self.facts:
            raise RuleViolation("facts", "nội dung sửa không có gì mới / nothing changed")
        reason = reason.strip()
        json = {"activity_id": self.id, "reason": reason, **facts.data()}
        self._record(facts.corrected(self.id, reason), json)

    def void(self, reason: str) -> None:
        self._check_not_voided()
        _check_reason(reason)
        self._record(ActivityVoided(activity_id=self.id, reason=reason.strip()))

    def _check_not_voided(self) -> None:
        if self.voided:
            raise RuleViolation("activity", "hoạt động đã bị hủy / the activity is void")

    def apply(self, event: Event) -> None:
        match event.data:
            case ActivityRecorded() | ActivityCorrected() as facts:
                self.facts = Facts.of(facts)
            case ActivityVoided():
                self.voided = True
            case _:
                raise ValueError(f"unknown activity event {event.type}")
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "Activity":
        first = events[0].data
        if not isinstance(first, ActivityRecorded):
            raise ValueError("an activity's history starts with its recording")
        # made from its recording, which it then counts, rather than applying it again
        activity = cls(first.activity_id, first.province, Facts.of(first), version=1)
        for event in events[1:]:
            activity.apply(event)
        return activity


def _check_reason(reason: str) -> None:
    if not reason.strip():
        raise RuleViolation("reason", "cần ghi lý do / the reason is missing")
