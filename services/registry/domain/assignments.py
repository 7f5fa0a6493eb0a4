"""The assignment aggregate: which sponsor units help which target, and who leads each year.

Methods check the rules and record events; `apply` is the only place state changes, so
an assignment rebuilt from its events is the one that recorded them. Nothing is
overwritten: a change of members, lead or target is a new event in the history.
"""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from services.registry.domain.admin_units import Edition
from services.registry.domain.errors import RuleViolation
from services.registry.domain.programmes import LegalBasis, Period

EVENT_PREFIX = "vn.ketnghia.registry.assignment"


class TargetKind(StrEnum):
    COMMUNE = "commune"
    VILLAGE = "village"  # thôn, bản, xóm registered by a province under a commune
    DISTRICT = "district"  # district-to-district twinning (before the 2025 reform)


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    edition: Edition
    code: str


@dataclass(frozen=True)
class Membership:
    sponsor_unit_id: str
    joined_on: date
    left_on: date | None = None

    def active_in(self, year: int) -> bool:
        return self.joined_on.year <= year and (self.left_on is None or self.left_on.year >= year)


@dataclass(frozen=True)
class Event:
    """A recorded fact; `type` is its versioned CloudEvents type."""

    type: str
    data: dict[str, Any]


@dataclass
class Assignment:
    id: str
    programme_id: str
    period: Period
    province: str
    target: Target
    legal_basis: LegalBasis
    members: dict[str, Membership] = field(default_factory=dict)
    leads: dict[int, str] = field(default_factory=dict)
    former_targets: list[Target] = field(default_factory=list)
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    # -- commands -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        assignment_id: str,
        programme_id: str,
        period: Period,
        province: str,
        target: Target,
        legal_basis: LegalBasis,
        members: list[Membership],
        leads: dict[int, str],
    ) -> "Assignment":
        if not members:
            raise RuleViolation("members", "cần ít nhất một đơn vị / at least one sponsor unit")
        assignment = cls(assignment_id, programme_id, period, province, target, legal_basis)
        for membership in members:
            assignment._check_membership(membership)
        if len({m.sponsor_unit_id for m in members}) != len(members):
            raise RuleViolation("members", "một đơn vị được nêu hai lần / a unit is listed twice")
        staged = {m.sponsor_unit_id: m for m in members}
        for year, unit in leads.items():
            assignment._check_lead(year, unit, staged)
        assignment._record(
            "created.v1",
            {
                "assignment_id": assignment_id,
                "programme_id": programme_id,
                "period": {"start_year": period.start_year, "end_year": period.end_year},
                "province": province,
                "target": _target_data(target),
                "legal_basis": {
                    "number": legal_basis.number,
                    "issued_on": legal_basis.issued_on.isoformat(),
                    "issuer": legal_basis.issuer,
                },
                "members": [_membership_data(m) for m in members],
                "leads": {str(year): unit for year, unit in sorted(leads.items())},
            },
        )
        return assignment

    def assign_lead(self, year: int, sponsor_unit_id: str) -> None:
        self._check_lead(year, sponsor_unit_id, self.members)
        if self.leads.get(year) != sponsor_unit_id:
            self._record("lead_assigned.v1", {"year": year, "sponsor_unit_id": sponsor_unit_id})

    def join(self, membership: Membership) -> None:
        self._check_membership(membership)
        if membership.sponsor_unit_id in self.members:
            raise RuleViolation("sponsor_unit_id", "đơn vị đã là thành viên / already a member")
        self._record("member_joined.v1", _membership_data(membership))

    def leave(self, sponsor_unit_id: str, left_on: date) -> None:
        current = self.members.get(sponsor_unit_id)
        if current is None:
            raise RuleViolation("sponsor_unit_id", "đơn vị không phải thành viên / not a member")
        if left_on < current.joined_on:
            raise RuleViolation("left_on", "ngày rời trước ngày tham gia / leaves before joining")
        led_later = sorted(
            year
            for year, unit in self.leads.items()
            if unit == sponsor_unit_id and year > left_on.year
        )
        if led_later:
            raise RuleViolation(
                "left_on",
                f"đơn vị còn chủ trì năm {led_later[0]}: chuyển chủ trì trước / "
                f"the unit leads in {led_later[0]}: hand the lead over first",
            )
        self._record(
            "member_left.v1", {"sponsor_unit_id": sponsor_unit_id, "left_on": left_on.isoformat()}
        )

    def continue_on(self, successor: Target, reason: str) -> None:
        """The target was merged by the 2025 reform: carry on with its successor, keeping
        the old target in the history."""
        if successor.edition != Edition.FROM_2025 or self.target.edition == Edition.FROM_2025:
            raise RuleViolation(
                "target",
                "chỉ chuyển từ đơn vị trước 2025 sang đơn vị từ 2025 / "
                "only a pre-2025 target continues on a 2025 unit",
            )
        self._record(
            "target_succeeded.v1",
            {"from": _target_data(self.target), "to": _target_data(successor), "reason": reason},
        )

    # -- rules ----------------------------------------------------------------------
    def _check_membership(self, membership: Membership) -> None:
        if not self.period.first_day <= membership.joined_on <= self.period.last_day:
            raise RuleViolation(
                "joined_on",
                f"ngày {membership.joined_on:%d/%m/%Y} ngoài giai đoạn {self.period} / "
                f"outside the programme period {self.period}",
            )

    def _check_lead(self, year: int, unit: str, members: dict[str, Membership]) -> None:
        if year not in self.period:
            raise RuleViolation(
                f"leads.{year}",
                f"năm {year} ngoài giai đoạn {self.period} / outside the programme period",
            )
        membership = members.get(unit)
        if membership is None or not membership.active_in(year):
            raise RuleViolation(
                f"leads.{year}",
                f"đơn vị chủ trì năm {year} không là thành viên trong năm đó / "
                f"the lead of {year} is not a member that year",
            )

    # -- events ---------------------------------------------------------------------
    def _record(self, name: str, data: dict[str, Any]) -> None:
        event = Event(f"{EVENT_PREFIX}.{name}", data)
        self.apply(event)
        self.pending.append(event)

    def apply(self, event: Event) -> None:
        data = event.data
        kind = event.type.removeprefix(f"{EVENT_PREFIX}.")
        if kind == "created.v1":
            for membership in data["members"]:
                self.members[membership["sponsor_unit_id"]] = _membership(membership)
            self.leads = {int(year): unit for year, unit in data["leads"].items()}
        elif kind == "lead_assigned.v1":
            self.leads[data["year"]] = data["sponsor_unit_id"]
        elif kind == "member_joined.v1":
            self.members[data["sponsor_unit_id"]] = _membership(data)
        elif kind == "member_left.v1":
            current = self.members[data["sponsor_unit_id"]]
            self.members[current.sponsor_unit_id] = Membership(
                current.sponsor_unit_id, current.joined_on, date.fromisoformat(data["left_on"])
            )
        elif kind == "target_succeeded.v1":
            self.former_targets.append(self.target)
            self.target = _target(data["to"])
        else:
            raise ValueError(f"unknown assignment event {event.type}")
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "Assignment":
        if not events or not events[0].type.endswith(".created.v1"):
            raise ValueError("an assignment's history starts with its creation")
        created = events[0].data
        basis = created["legal_basis"]
        assignment = cls(
            created["assignment_id"],
            created["programme_id"],
            Period(**created["period"]),
            created["province"],
            _target(created["target"]),
            LegalBasis(basis["number"], date.fromisoformat(basis["issued_on"]), basis["issuer"]),
        )
        for event in events:
            assignment.apply(event)
        return assignment

    def lead_of(self, year: int) -> str | None:
        return self.leads.get(year)


def _target_data(target: Target) -> dict[str, str]:
    return {"kind": target.kind, "edition": target.edition, "code": target.code}


def _target(data: dict[str, str]) -> Target:
    return Target(TargetKind(data["kind"]), Edition(data["edition"]), data["code"])


def _membership_data(membership: Membership) -> dict[str, str | None]:
    return {
        "sponsor_unit_id": membership.sponsor_unit_id,
        "joined_on": membership.joined_on.isoformat(),
        "left_on": membership.left_on.isoformat() if membership.left_on else None,
    }


def _membership(data: dict[str, Any]) -> Membership:
    left = data.get("left_on")
    return Membership(
        data["sponsor_unit_id"],
        date.fromisoformat(data["joined_on"]),
        date.fromisoformat(left) if left else None,
    )
