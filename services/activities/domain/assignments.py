"""What the activities service knows of an assignment, from the registry's events, and the
rules an activity must meet against it."""

from dataclasses import dataclass, field
from datetime import date

from services.activities.domain.activities import Facts
from shared.errors import RuleViolation


@dataclass(frozen=True)
class Membership:
    sponsor_unit_id: str
    joined_on: date
    left_on: date | None

    def active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)


@dataclass(frozen=True)
class KnownAssignment:
    id: str
    province: str
    start_year: int
    end_year: int
    communes: frozenset[tuple[str, str]]  # (edition, code): as made, then its successors
    members: tuple[Membership, ...] = field(default=())
    ended_on: date | None = None

    def check(self, facts: Facts) -> None:
        """The activity lies in the programme's period, at one of the assignment's communes,
        and every acting unit is a member on its date."""
        day = facts.occurred_on
        if not self.start_year <= day.year <= self.end_year:
            raise RuleViolation(
                "occurred_on",
                f"ngày {day:%d/%m/%Y} ngoài giai đoạn {self.start_year}-{self.end_year} / "
                "outside the programme period",
            )
        if self.ended_on is not None and day > self.ended_on:
            raise RuleViolation(
                "occurred_on",
                f"phân công đã kết thúc ngày {self.ended_on:%d/%m/%Y} / the assignment had ended",
            )
        if (facts.commune_edition, facts.commune_code) not in self.communes:
            raise RuleViolation(
                "commune_code",
                f"xã {facts.commune_code} ({facts.commune_edition}) không thuộc phân công này / "
                "the commune is not a target of this assignment",
            )
        for index, unit in enumerate(facts.sponsor_unit_ids):
            if not any(m.sponsor_unit_id == unit and m.active_on(day) for m in self.members):
                raise RuleViolation(
                    f"contributions.{index}.sponsor_unit_id",
                    f"đơn vị {unit} không thuộc phân công vào ngày {day:%d/%m/%Y} / "
                    "the unit is not a member of the assignment on that day",
                )
