"""The assignment aggregate: which sponsor units help which target, and who leads each year.

Methods check the rules and record events; `apply` is the only place state changes, so
an assignment rebuilt from its events is the one that recorded them. Nothing is
overwritten: a change of members, lead or target is a new event in the history.
"""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from services.registry.domain.admin_units import Edition, Level
from services.registry.domain.programmes import (
    LegalBasis,
    Period,
    legal_basis,
    legal_basis_data,
    period_data,
    period_of,
)
from shared import contract
from shared.contract import (
    AssignmentCreated,
    AssignmentEnded,
    Event,
    EventSourced,
    LeadAssigned,
    MemberLeft,
    TargetSucceeded,
)
from shared.errors import RuleViolation
from shared.events import unit_key

DISTRICTS_END = date(2025, 6, 30)  # the last day of districts: 1 July 2025 abolished them


class TargetKind(StrEnum):
    COMMUNE = "commune"
    VILLAGE = "village"  # thôn, bản, xóm registered by a province under a commune
    DISTRICT = "district"  # district-to-district twinning (before the 2025 reform)


@dataclass(frozen=True)
class Target:
    """What an assignment helps. For a village, `edition` and `code` name its commune."""

    kind: TargetKind
    edition: Edition
    code: str
    village_id: str | None = None
    # A district's name and its communes' codes, as the registry found them when the
    # assignment was made: what the other services check a district's activities against.
    name: str | None = field(default=None, compare=False)
    communes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if (self.kind == TargetKind.VILLAGE) != (self.village_id is not None):
            raise RuleViolation("target.village_id", "chỉ mục tiêu thôn, bản có village_id")
        if self.kind == TargetKind.DISTRICT and self.edition != Edition.PRE_2025:
            raise RuleViolation(
                "target.edition", "huyện chỉ có trước 01/7/2025 / districts ended in 2025"
            )

    @property
    def level(self) -> Level:
        return Level.DISTRICT if self.kind == TargetKind.DISTRICT else Level.COMMUNE

    @property
    def partition_key(self) -> str:
        """A village's events go with its commune's, so one commune's stay in order."""
        return unit_key(self.level, self.edition, self.code)


@dataclass(frozen=True)
class Membership:
    sponsor_unit_id: str
    joined_on: date
    left_on: date | None = None

    def active_in(self, year: int) -> bool:
        return self.joined_on.year <= year and (self.left_on is None or self.left_on.year >= year)

    def active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)


@dataclass
class Assignment(EventSourced):
    id: str
    programme_id: str
    period: Period
    province: str
    target: Target
    legal_basis: LegalBasis | None  # None when the province has not cited a document yet
    members: dict[str, Membership] = field(default_factory=dict)
    leads: dict[int, str] = field(default_factory=dict)
    former_targets: list[Target] = field(default_factory=list)
    ended_on: date | None = None
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
        legal_basis: LegalBasis | None,
        members: list[Membership],
        leads: dict[int, str],
        continues: str | None = None,
    ) -> "Assignment":
        """`continues`: the district assignment this one carries on after the reform."""
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
        continued: dict[str, Any] = {"continues": continues} if continues else {}
        assignment._record(
            AssignmentCreated(
                **continued,  # added compatibly: the other assignments' events lack it
                assignment_id=assignment_id,
                programme_id=programme_id,
                period=period_data(period),
                province=province,
                target=_target_data(target),
                legal_basis=legal_basis_data(legal_basis) if legal_basis else None,
                members=[_membership_data(m) for m in members],
                leads={str(year): unit for year, unit in sorted(leads.items())},
            )
        )
        return assignment

    def assign_lead(self, year: int, sponsor_unit_id: str) -> None:
        self._check_not_ended()
        self._check_lead(year, sponsor_unit_id, self.members)
        if self.leads.get(year) != sponsor_unit_id:
            self._record(LeadAssigned(year=year, sponsor_unit_id=sponsor_unit_id))

    def join(self, membership: Membership) -> None:
        self._check_not_ended()
        self._check_membership(membership)
        if membership.sponsor_unit_id in self.members:
            raise RuleViolation("sponsor_unit_id", "đơn vị đã là thành viên / already a member")
        self._record(_membership_data(membership))

    def leave(self, sponsor_unit_id: str, left_on: date) -> None:
        self._check_not_ended()
        current = self.members.get(sponsor_unit_id)
        if current is None:
            raise RuleViolation("sponsor_unit_id", "đơn vị không phải thành viên / not a member")
        self._check_membership(Membership(sponsor_unit_id, current.joined_on, left_on))
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
        self._record(MemberLeft(sponsor_unit_id=sponsor_unit_id, left_on=left_on))

    def continue_on(self, successor: Target, reason: str) -> None:
        """The target was merged by the 2025 reform: carry on with its successor, keeping
        the old target in the history."""
        self._check_not_ended()
        if successor.edition != Edition.FROM_2025 or self.target.edition == Edition.FROM_2025:
            raise RuleViolation(
                "target",
                "chỉ chuyển từ đơn vị trước 2025 sang đơn vị từ 2025 / "
                "only a pre-2025 target continues on a 2025 unit",
            )
        self._record(
            TargetSucceeded(
                from_=_target_data(self.target), to=_target_data(successor), reason=reason
            )
        )

    def continue_on_communes(self, communes: list[str], reason: str) -> list["Assignment"]:
        """A district assignment carries on after the reform on the named 2025 communes:
        it ends on 30 June 2025, and one commune assignment per commune begins on 1 July
        with the members of that day and the leads from 2025 on."""
        if self.target.kind != TargetKind.DISTRICT:
            raise RuleViolation(
                "target", "chỉ phân công giúp huyện / only a district assignment continues so"
            )
        if not communes:
            raise RuleViolation("communes", "cần ít nhất một xã / name at least one commune")
        if len(set(communes)) != len(communes):
            raise RuleViolation("communes", "một xã được nêu hai lần / a commune is listed twice")
        if DISTRICTS_END.year not in self.period:
            raise RuleViolation(
                "assignment",
                f"giai đoạn {self.period} không kéo dài qua 01/7/2025 / "
                "the programme period ends before the reform",
            )
        self.end(DISTRICTS_END, reason)
        members = [
            Membership(unit, DISTRICTS_END.replace(day=1, month=7))
            for unit in self.members_on(DISTRICTS_END)
        ]
        if not members:
            raise RuleViolation(
                "members",
                "không còn đơn vị nào ngày 30/6/2025 / "
                "no sponsor unit was a member on 30 June 2025",
            )
        joined = {m.sponsor_unit_id for m in members}
        leads = {y: u for y, u in self.leads.items() if y >= DISTRICTS_END.year and u in joined}
        return [
            Assignment.create(
                continued_id(self.id, code),
                self.programme_id,
                self.period,
                self.province,
                Target(TargetKind.COMMUNE, Edition.FROM_2025, code),
                self.legal_basis,
                members,
                leads,
                continues=self.id,
            )
            for code in communes
        ]

    def end(self, ended_on: date, reason: str) -> None:
        """The assignment stops (superseded by a new decision, the commune left the
        programme); its history stays, and the target may be assigned again."""
        self._check_not_ended()
        if not reason.strip():
            raise RuleViolation("reason", "cần ghi lý do / the reason is missing")
        self._check_day("ended_on", ended_on)
        self._record(AssignmentEnded(ended_on=ended_on, reason=reason.strip()))

    @property
    def active(self) -> bool:
        return self.ended_on is None

    @property
    def ends_on(self) -> date | None:
        """The day it ended, or for a district, the last day districts existed."""
        if self.target.kind == TargetKind.DISTRICT:
            return min(self.ended_on or DISTRICTS_END, DISTRICTS_END)
        return self.ended_on

    def members_on(self, day: date) -> list[str]:
        return [unit for unit, membership in self.members.items() if membership.active_on(day)]

    # -- rules ----------------------------------------------------------------------
    def _check_not_ended(self) -> None:
        if self.ended_on is not None:
            raise RuleViolation(
                "assignment",
                f"phân công đã kết thúc ngày {self.ended_on:%d/%m/%Y} / the assignment has ended",
            )

    def _check_day(self, name: str, day: date) -> None:
        if not self.period.first_day <= day <= self.period.last_day:
            raise RuleViolation(
                name,
                f"ngày {day:%d/%m/%Y} ngoài giai đoạn {self.period} / "
                f"outside the programme period {self.period}",
            )

    def _check_membership(self, membership: Membership) -> None:
        self._check_day("joined_on", membership.joined_on)
        if self.target.kind == TargetKind.DISTRICT and membership.joined_on > DISTRICTS_END:
            raise RuleViolation(
                "joined_on",
                "huyện không còn từ 01/7/2025: tiếp tục trên các xã mới / "
                "districts ended on 30 June 2025: continue on the 2025 communes",
            )
        if membership.left_on is not None:
            self._check_day("left_on", membership.left_on)
            if membership.left_on < membership.joined_on:
                raise RuleViolation(
                    "left_on", "ngày rời trước ngày tham gia / leaves before joining"
                )

    def _check_lead(self, year: int, unit: str, members: dict[str, Membership]) -> None:
        if year not in self.period:
            raise RuleViolation(
                f"leads.{year}",
                f"năm {year} ngoài giai đoạn {self.period} / outside the programme period",
            )
        if self.target.kind == TargetKind.DISTRICT and year > DISTRICTS_END.year:
            raise RuleViolation(
                f"leads.{year}",
                f"huyện không còn từ 01/7/2025: không có chủ trì năm {year} / "
                f"districts ended on 30 June 2025: no lead for {year}",
            )
        membership = members.get(unit)
        if membership is None or not membership.active_in(year):
            raise RuleViolation(
                f"leads.{year}",
                f"đơn vị chủ trì năm {year} không là thành viên trong năm đó / "
                f"the lead of {year} is not a member that year",
            )

    # -- events ---------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        match event.data:
            case AssignmentCreated() as created:
                for membership in created.members:
                    self.members[membership.sponsor_unit_id] = _membership(membership)
                self.leads = {int(year): unit for year, unit in created.leads.items()}
            case LeadAssigned() as lead:
                self.leads[lead.year] = lead.sponsor_unit_id
            case contract.Membership() as joined:
                self.members[joined.sponsor_unit_id] = _membership(joined)
            case MemberLeft() as left:
                current = self.members[left.sponsor_unit_id]
                self.members[current.sponsor_unit_id] = Membership(
                    current.sponsor_unit_id, current.joined_on, left.left_on
                )
            case TargetSucceeded() as succeeded:
                self.former_targets.append(self.target)
                self.target = _target(succeeded.to)
            case AssignmentEnded() as ended:
                self.ended_on = ended.ended_on
            case _:
                raise ValueError(f"unknown assignment event {event.type}")
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "Assignment":
        created = events[0].data if events else None
        if not isinstance(created, AssignmentCreated):
            raise ValueError("an assignment's history starts with its creation")
        basis = created.legal_basis
        assignment = cls(
            created.assignment_id,
            created.programme_id,
            period_of(created.period),
            created.province,
            _target(created.target),
            legal_basis(basis) if basis else None,
        )
        for event in events:
            assignment.apply(event)
        return assignment

    def lead_of(self, year: int) -> str | None:
        return self.leads.get(year)

    @property
    def recorded_target(self) -> Target:
        """The target as the assignment was made; its events keep this Kafka key."""
        return self.former_targets[0] if self.former_targets else self.target

    @property
    def stream_id(self) -> str:
        return self.id

    @property
    def partition_key(self) -> str:
        return self.recorded_target.partition_key


def continued_id(district_assignment_id: str, commune_code: str) -> str:
    """The id of the commune assignment that continues a district's: the same on a retry."""
    return str(uuid5(NAMESPACE_URL, f"{district_assignment_id}/continued/{commune_code}"))


def _target_data(target: Target) -> contract.Target:
    district: dict[str, Any] = {}
    if target.kind == TargetKind.DISTRICT:  # added compatibly: other targets lack them
        district = {"name": target.name, "communes": list(target.communes)}
    return contract.Target(
        kind=target.kind,
        edition=target.edition,
        code=target.code,
        village_id=target.village_id,
        **district,
    )


def _target(data: contract.Target) -> Target:
    return Target(
        TargetKind(data.kind),
        Edition(data.edition),
        data.code,
        data.village_id,
        data.name,
        tuple(data.communes or ()),
    )


def _membership_data(membership: Membership) -> contract.Membership:
    return contract.Membership(
        sponsor_unit_id=membership.sponsor_unit_id,
        joined_on=membership.joined_on,
        left_on=membership.left_on,
    )


def _membership(data: contract.Membership) -> Membership:
    return Membership(data.sponsor_unit_id, data.joined_on, data.left_on)
