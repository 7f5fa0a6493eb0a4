"""An assignment's yearly plan (kế hoạch) and its commitments; activities can fulfil them,
so plan versus actual is reportable."""

from dataclasses import dataclass, field
from typing import Any

from services.activities.domain.activities import Quantity
from shared.catalogue import CATEGORIES, QUANTITY_UNITS
from shared.contract import CommitmentAdded, CommitmentData, Event, EventSourced, PlanCreated
from shared.errors import RuleViolation


@dataclass(frozen=True)
class Commitment:
    id: str
    description: str  # "Quý 2/2025: lắp camera an ninh"
    category: str | None = None
    quarter: int | None = None  # due in this quarter of the plan's year; None: the year
    planned_value_vnd: int | None = None  # what the unit means to spend
    planned_quantity: Quantity | None = None  # and to give: 20 con, 3 km...

    def fields(self) -> dict[str, Any]:
        """As the contract's `CommitmentData` fields; what was not planned stays out (the
        plans recorded before the planned value and quantity were added lack them)."""
        found: dict[str, Any] = {
            "commitment_id": self.id,
            "description": self.description.strip(),
            "category": self.category,
            "quarter": self.quarter,
        }
        if self.planned_value_vnd is not None:
            found["planned_value_vnd"] = self.planned_value_vnd
        if self.planned_quantity is not None:
            found["planned_quantity"] = self.planned_quantity.data()
        return found

    @classmethod
    def of(cls, data: CommitmentData) -> "Commitment":
        quantity = data.planned_quantity
        return cls(
            data.commitment_id,
            data.description,
            data.category,
            data.quarter,
            data.planned_value_vnd,
            Quantity.of(quantity) if quantity else None,
        )

    def check(self, index: int) -> None:
        where = f"commitments.{index}"
        if not self.description.strip():
            raise RuleViolation(f"{where}.description", "thiếu nội dung cam kết / description")
        if self.category is not None and self.category not in CATEGORIES:
            raise RuleViolation(f"{where}.category", f"không có hạng mục {self.category!r}")
        if self.quarter is not None and self.quarter not in (1, 2, 3, 4):
            raise RuleViolation(f"{where}.quarter", "quý là 1, 2, 3 hoặc 4 / a quarter is 1-4")
        if self.planned_value_vnd is not None and self.planned_value_vnd < 0:
            raise RuleViolation(f"{where}.planned_value_vnd", "giá trị không được âm / negative")
        if self.planned_quantity is not None:
            if self.planned_quantity.amount <= 0:
                raise RuleViolation(f"{where}.planned_quantity.amount", "số lượng phải > 0")
            if self.planned_quantity.unit not in QUANTITY_UNITS:
                unit = self.planned_quantity.unit
                raise RuleViolation(f"{where}.planned_quantity.unit", f"không có đơn vị {unit!r}")


def plan_stream(assignment_id: str, year: int) -> str:
    """One plan per assignment and year."""
    return f"plan:{assignment_id}:{year}"


@dataclass
class Plan(EventSourced):
    assignment_id: str
    year: int
    province: str
    commitments: dict[str, Commitment] = field(default_factory=dict)
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    @property
    def stream_id(self) -> str:
        return plan_stream(self.assignment_id, self.year)

    @property
    def partition_key(self) -> str:
        return f"assignment:{self.assignment_id}"

    @classmethod
    def create(
        cls, assignment_id: str, year: int, province: str, commitments: list[Commitment]
    ) -> "Plan":
        plan = cls(assignment_id, year, province)
        for index, commitment in enumerate(commitments):
            commitment.check(index)
        if len({c.id for c in commitments}) != len(commitments):
            raise RuleViolation("commitments", "mã cam kết bị trùng / a commitment id twice")
        plan._record(
            PlanCreated(
                assignment_id=assignment_id,
                year=year,
                province=province,
                commitments=[CommitmentData(**c.fields()) for c in commitments],
            )
        )
        return plan

    def add(self, commitment: Commitment) -> None:
        commitment.check(0)
        if commitment.id in self.commitments:
            raise RuleViolation("commitment_id", "mã cam kết đã có / already in the plan")
        self._record(
            CommitmentAdded(assignment_id=self.assignment_id, year=self.year, **commitment.fields())
        )

    def apply(self, event: Event) -> None:
        match event.data:
            case PlanCreated(commitments=commitments):
                for data in commitments:
                    self.commitments[data.commitment_id] = Commitment.of(data)
            case CommitmentAdded() as added:
                self.commitments[added.commitment_id] = Commitment.of(added)
            case _:
                raise ValueError(f"unknown plan event {event.type}")
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "Plan":
        created = events[0].data
        if not isinstance(created, PlanCreated):
            raise ValueError("a plan's history starts with its creation")
        plan = cls(created.assignment_id, created.year, created.province)
        for event in events:
            plan.apply(event)
        return plan
