"""Programmes: a period of years and the legal documents behind them."""

import re
from dataclasses import dataclass
from datetime import date

from services.registry.domain.errors import RuleViolation

# "2072/QĐ-UBND", "417-TB/TU", "12-KH/BDVTU": a number, then the document kind and issuer.
DOCUMENT_NUMBER = re.compile(r"^\d{1,5}[/-][A-ZĐ]{1,10}([/-][A-ZĐ]{1,10}){0,3}$")


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
