"""What the activities service knows of an assignment, from the registry's events, and the
rules an activity must meet against it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from services.activities.domain.activities import Facts
from shared.editions import FROM_2025, PRE_2025
from shared.errors import RuleViolation

REFORM_DAY = date(2025, 7, 1)  # the 2025 communes exist from this day; the old ones until it


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

    def check(
        self,
        facts: Facts,
        names: Mapping[str, str] | None = None,
        communes: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        """The activity lies in the programme's period, at one of the assignment's communes,
        and every acting unit is a member on its date (`names`: unit id → name, `communes`:
        (edition, code) → name, for the reasons)."""
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
        self._check_edition(facts, communes)
        if (facts.commune_edition, facts.commune_code) not in self.communes:
            targets = ", ".join(_commune(e, c, communes) for e, c in sorted(self.communes))
            raise RuleViolation(
                "commune_code",
                f"xã {_commune(facts.commune_edition, facts.commune_code, communes)} không "
                f"thuộc phân công này (xã của phân công: {targets}) / the commune is not a "
                f"target of this assignment (its communes: {targets})",
            )
        for index, unit in enumerate(facts.sponsor_unit_ids):
            if not any(m.sponsor_unit_id == unit and m.active_on(day) for m in self.members):
                raise RuleViolation(
                    f"contributions.{index}.sponsor_unit_id",
                    f"đơn vị {_named(unit, names)} không thuộc phân công vào ngày "
                    f"{day:%d/%m/%Y} / "
                    "the unit is not a member of the assignment on that day",
                )

    def _check_edition(
        self, facts: Facts, names: Mapping[tuple[str, str], str] | None = None
    ) -> None:
        """A commune existed on one side of 1 July 2025 only: an old commune after it, or a
        2025 commune before it, is refused, naming the assignment's commune of the other
        edition to record at instead."""
        day = facts.occurred_on
        code = _commune(facts.commune_edition, facts.commune_code, names)
        if facts.commune_edition == PRE_2025 and day >= REFORM_DAY:
            became = sorted(_commune(e, c, names) for e, c in self.communes if e == FROM_2025)
            instead = (
                f"ghi vào xã {', '.join(became)} (2025) / record it at the 2025 commune "
                f"{', '.join(became)}"
                if became
                else "phân công chưa chuyển sang xã mới: hãy chuyển tiếp (succession) trước / "
                "continue the assignment on the 2025 commune first"
            )
            raise RuleViolation(
                "commune_code",
                f"xã {code} (trước 2025) không còn từ 01/7/2025, ngày {day:%d/%m/%Y}: {instead}",
            )
        if facts.commune_edition == FROM_2025 and day < REFORM_DAY:
            came = sorted(_commune(e, c, names) for e, c in self.communes if e == PRE_2025)
            raise RuleViolation(
                "commune_code",
                f"xã {code} (2025) chỉ có từ 01/7/2025, ngày {day:%d/%m/%Y}: ghi vào xã "
                f"{', '.join(came) or 'cũ'} (trước 2025) / the 2025 commune exists from "
                f"1 July 2025: record it at the pre-2025 commune {', '.join(came)}",
            )


def _commune(edition: str, code: str, names: Mapping[tuple[str, str], str] | None) -> str:
    """«Xã Hàm Cần» (23116), or the code alone when the name is not known."""
    name = (names or {}).get((edition, code))
    return f"«{name}» ({code})" if name else code


def _named(unit: str, names: Mapping[str, str] | None) -> str:
    """«Sở Công Thương tỉnh Bình Thuận» (6dd6e969-…), or the id alone when unknown."""
    name = (names or {}).get(unit)
    return f"«{name}» ({unit})" if name else unit
