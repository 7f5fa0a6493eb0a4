"""Numbers and dates as people in Vietnam write them: `21.750.000 đ`, `30/09/2024`."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from shared.editions import FROM_2025, PRE_2025

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving


def number(value: int | float | Decimal | str | None) -> str:
    """`1234567` → `1.234.567`; `2.5` → `2,5` (dot for thousands, comma for decimals)."""
    if value is None or value == "":
        return "–"
    amount = Decimal(str(value))
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    fraction = fraction.rstrip("0")
    sign = "-" if amount < 0 else ""
    return f"{sign}{grouped},{fraction}" if fraction else f"{sign}{grouped}"


def vnd(value: int | Decimal | str | None) -> str:
    """`21750000` → `21.750.000 đ`."""
    return "–" if value is None or value == "" else f"{number(value)} đ"


def day(value: date | datetime | str | None) -> str:
    """`2024-09-30` → `30/09/2024`; a moment also gets its time, `30/09/2024 14:05`."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):  # a moment the services give in UTC: Vietnam's time
        local = value.astimezone(VIETNAM) if value.tzinfo else value
        return f"{local:%d/%m/%Y %H:%M}"
    return f"{value:%d/%m/%Y}"


def edition(value: str) -> str:
    return {PRE_2025: "trước 01/7/2025", FROM_2025: "từ 01/7/2025"}.get(value, value)
