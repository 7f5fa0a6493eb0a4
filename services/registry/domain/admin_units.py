"""Administrative units in both editions, and how the 2025 reform connects them.

On 1 July 2025 Vietnam merged 63 provinces into 34, abolished districts and merged about
10,000 communes into 3,321. Codes were reused for other units, so a unit is always
identified by its edition and code, never by name or code alone.
"""

from dataclasses import dataclass
from enum import StrEnum

from shared import editions
from shared.text import fold


class Edition(StrEnum):
    PRE_2025 = editions.PRE_2025  # 63 provinces, districts, ~10,000 communes
    FROM_2025 = editions.FROM_2025  # from 1 July 2025: 34 provinces, 3,321 communes, no districts


class Level(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class Share(StrEnum):
    """How much of an old commune a successor received."""

    WHOLE = "whole"  # the old commune went entirely into the new one (a merge)
    PART = "part"  # the old commune was split; the new one received a part of it


@dataclass(frozen=True)
class AdminUnit:
    edition: Edition
    level: Level
    code: str
    name: str  # "Xã Hàm Cần"
    short_name: str  # "Hàm Cần"
    province_code: str
    parent_code: str | None  # the district of a pre-2025 commune, the province otherwise

    @property
    def search_key(self) -> str:
        return search_key(self.short_name)


@dataclass(frozen=True)
class Succession:
    """A pre-2025 commune and one commune of 2025 that took it over, wholly or in part."""

    old_code: str
    new_code: str
    share: Share
    default: bool  # for a split commune: the successor the dataset names as the main one


def search_key(text: str) -> str:
    """What a name is searched by: "ham can" finds "Hàm Cần"."""
    return fold(text)
