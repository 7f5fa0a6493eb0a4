"""Programmes: a province's twinning programme, its period of years and the legal documents
behind it."""

import re
from dataclasses import dataclass, field
from datetime import date

from services.registry.domain.province_entries import ProvinceEntry
from shared import contract
from shared.contract import Event, EventSourced, LegalBasisAdded, ProgrammeCreated
from shared.errors import RuleViolation

# "2072/QĐ-UBND", "417-TB/TU", "12-KH/BDVTU": a number, then the document kind and issuer.
DOCUMENT_NUMBER = re.compile(r"^[0-9]{1,5}[/-][A-ZĐ]{1,10}([/-][A-ZĐ]{1,10}){0,3}$")


@dataclass(frozen=True)
class LegalBasis:
    """A decision or notice of the provincial Party committee or People's Committee."""

    number: str
    issued_on: date
    issuer: str  # "UBND tỉnh Điện Biên", "Tỉnh ủy Bình Thuận"

    def __post_init__(self) -> None:
        if not DOCUMENT_NUMBER.match(self.number):
            raise RuleViolation(
                "legal_basis.number",
                f"số văn bản {self.number!r} không đúng dạng như 2072/QĐ-UBND hoặc 417-TB/TU / "
                "document number must look like 2072/QĐ-UBND or 417-TB/TU",
            )
        if not self.issuer.strip():
            raise RuleViolation("legal_basis.issuer", "thiếu cơ quan ban hành / issuer missing")


@dataclass(frozen=True)
class Period:
    """A programme period (giai đoạn), in whole years: 2021-2025."""

    start_year: int
    end_year: int

    def __post_init__(self) -> None:
        if not 2000 <= self.start_year <= self.end_year <= 2100:
            raise RuleViolation(
                "period",
                f"giai đoạn {self.start_year}-{self.end_year} không hợp lệ / "
                "the period must run forwards, between 2000 and 2100",
            )

    def __contains__(self, year: object) -> bool:
        return isinstance(year, int) and self.start_year <= year <= self.end_year

    @property
    def first_day(self) -> date:
        return date(self.start_year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.end_year, 12, 31)

    def __str__(self) -> str:
        return f"{self.start_year}-{self.end_year}"


@dataclass
class Programme(ProvinceEntry, EventSourced):
    """A province's twinning programme for a period, on the strength of its legal bases."""

    id: str
    province: str
    name: str  # "Kết nghĩa, giúp đỡ xã đặc biệt khó khăn giai đoạn 2021-2025"
    period: Period
    scope: str  # which communes and villages it covers, in the decision's words
    legal_bases: tuple[LegalBasis, ...] = ()
    version: int = 0
    pending: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise RuleViolation("name", "thiếu tên chương trình / the programme's name is missing")

    def create(self) -> None:
        self._record(
            ProgrammeCreated(
                programme_id=self.id,
                province=self.province,
                name=self.name.strip(),
                period=period_data(self.period),
                scope=self.scope,
                legal_bases=[legal_basis_data(basis) for basis in self.legal_bases],
            )
        )

    def add_legal_basis(self, basis: LegalBasis) -> None:
        """A later decision amends or extends the programme; the earlier ones stay."""
        if basis.number in {known.number for known in self.legal_bases}:
            raise RuleViolation(
                "number", f"văn bản {basis.number} đã có / the programme already cites it"
            )
        self._record(LegalBasisAdded(programme_id=self.id, legal_basis=legal_basis_data(basis)))

    def apply(self, event: Event) -> None:
        match event.data:
            case LegalBasisAdded(legal_basis=added):
                self.legal_bases += (legal_basis(added),)
            case ProgrammeCreated():
                pass
            case _:
                raise ValueError(f"unknown programme event {event.type}")
        self.version += 1

    @classmethod
    def from_events(cls, events: list[Event]) -> "Programme":
        created = events[0].data
        if not isinstance(created, ProgrammeCreated):
            raise ValueError("a programme's history starts with its creation")
        programme = cls(
            created.programme_id,
            created.province,
            created.name,
            period_of(created.period),
            created.scope,
            tuple(legal_basis(data) for data in created.legal_bases),
        )
        for event in events:
            programme.apply(event)
        return programme


def same_number(number: str) -> str:
    """A document number as it names one decision: without spaces or case ("2072/qđ-ubnd"
    is "2072/QĐ-UBND")."""
    return "".join(number.split()).upper()


def period_data(period: Period) -> contract.Period:
    return contract.Period(start_year=period.start_year, end_year=period.end_year)


def period_of(data: contract.Period) -> Period:
    return Period(data.start_year, data.end_year)


def legal_basis_data(basis: LegalBasis) -> contract.LegalBasis:
    return contract.LegalBasis(number=basis.number, issued_on=basis.issued_on, issuer=basis.issuer)


def legal_basis(data: contract.LegalBasis) -> LegalBasis:
    return LegalBasis(data.number, data.issued_on, data.issuer)
