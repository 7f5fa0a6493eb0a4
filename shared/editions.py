"""The two editions of the administrative map, named once.

On 1 July 2025 Vietnam merged provinces, abolished districts and merged communes, reusing
codes for other units: a unit is named by its edition and its code. Every service compares,
builds and validates editions with these names, so that the spelling lives here alone
(`tests/unit/test_vocabulary.py` refuses it written anywhere else).
"""

from typing import Final, Literal

Edition = Literal["pre-2025", "2025"]
"""An edition's name, as events, keys, paths and tables carry it."""

PRE_2025: Final = "pre-2025"
"""Until 30 June 2025: 63 provinces, their districts, about 10,000 communes."""
FROM_2025: Final = "2025"
"""From 1 July 2025: 34 provinces, 3,321 communes, no districts."""

EDITIONS: Final = (PRE_2025, FROM_2025)
EDITION_PATTERN: Final = rf"^({PRE_2025}|{FROM_2025})$"
"""Not escaped: JSON Schema (ECMA) patterns refuse `\\-` outside a class."""
