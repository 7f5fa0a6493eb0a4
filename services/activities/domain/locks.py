"""Locked reporting periods: once a province coordinator locks a year or a quarter, for the
whole province or one commune, activities dated inside it cannot be recorded or corrected
until an explicit, recorded unlock."""

from dataclasses import dataclass, field
from datetime import date

from shared import contract
from shared.contract import Event, EventSourced
from shared.errors import Refused, RuleViolation


class PeriodLocked(Refused):
    """A write falls in a locked period (HTTP 409): the message says which lock."""


@dataclass(frozen=True)
class Lock:
    id: str
    year: int
    quarter: int | None  # None: the whole year
    commune: tuple[str, str] | None  # (edition, code); None: the whole province
    reason: str
    by: str

    def covers(self, commune: tuple[str, str], day: date) -> bool:
        if day.year != self.year or (self.commune is not None and self.commune != commune):
            return False
        return self.quarter is None or (day.month - 1) // 3 + 1 == self.quarter

    @property
    def label(self) -> str:
        period = f"quý {self.quarter}/{self.year}" if self.quarter else f"năm {self.year}"
        where = f"xã {self.commune[1]}" if self.commune else "toàn tỉnh"
        return f"{period}, {where}"


def locks_stream(province: str) -> str:
    """One stream per province, so that locking and unlocking are ordered."""
    return f"locks:{province}"


@dataclass
class ProvinceLocks(EventSourced):
    """The locks of one province: one stream, so locking and unlocking are ordered."""

    province: str
    active: dict[str, Lock] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # every lock id ever made, unlocked too
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    @property
    def stream_id(self) -> str:
        return locks_stream(self.province)

    @property
    def partition_key(self) -> str:
        return f"province:{self.province}"

    @classmethod
    def from_events(cls, events: list[Event]) -> "ProvinceLocks":
        first = events[0].data
        if not isinstance(first, contract.PeriodLocked):
            raise ValueError("a province's locks begin with a lock")
        locks = cls(first.province)
        for event in events:
            locks.apply(event)
        return locks

    def lock(self, lock: Lock) -> None:
        if lock.quarter is not None and lock.quarter not in (1, 2, 3, 4):
            raise RuleViolation("quarter", "quý là 1, 2, 3 hoặc 4 / a quarter is 1-4")
        if not lock.reason.strip() or not lock.by.strip():
            raise RuleViolation("reason", "cần ghi lý do và người khóa / reason and who locks")
        if lock.id in self.used:
            raise RuleViolation(
                "id", f"mã khóa {lock.id} đã dùng trong tỉnh / the lock id is already used"
            )
        commune = lock.commune
        self._record(
            contract.PeriodLocked(
                province=self.province,
                lock_id=lock.id,
                year=lock.year,
                quarter=lock.quarter,
                commune=contract.Commune(edition=commune[0], code=commune[1]) if commune else None,
                reason=lock.reason.strip(),
                by=lock.by.strip(),
            )
        )

    def unlock(self, lock_id: str, reason: str, by: str) -> None:
        if lock_id not in self.active:
            raise RuleViolation("lock_id", f"không có khóa {lock_id} đang hiệu lực / no such lock")
        if not reason.strip() or not by.strip():
            raise RuleViolation("reason", "mở khóa cần lý do và người mở / reason and who unlocks")
        self._record(
            contract.PeriodUnlocked(province=self.province, lock_id=lock_id, reason=reason, by=by)
        )

    def check(self, commune: tuple[str, str], day: date) -> None:
        for lock in self.active.values():
            if lock.covers(commune, day):
                raise PeriodLocked(
                    f"Kỳ báo cáo {lock.label} đã khóa ({lock.reason}; {lock.by}) / "
                    f"the period is locked (lock {lock.id}): unlock it first"
                )

    def apply(self, event: Event) -> None:
        match event.data:
            case contract.PeriodLocked() as locked:
                commune = locked.commune
                self.used.add(locked.lock_id)
                self.active[locked.lock_id] = Lock(
                    locked.lock_id,
                    locked.year,
                    locked.quarter,
                    (commune.edition, commune.code) if commune else None,
                    locked.reason,
                    locked.by,
                )
            case contract.PeriodUnlocked() as unlocked:
                del self.active[unlocked.lock_id]
            case _:
                raise ValueError(f"unknown lock event {event.type}")
        self.version += 1
