"""The bounds of every value the platform takes, in one place.

The event contract (`shared.contract`), the HTTP request models of the services, the
spreadsheet import and the consumers all take their limits from here, so that nothing an
API accepts is refused later by a consumer, and nothing a consumer accepts overflows a
projection's column: an amount in VND is at most `MAX_VND` (a million billion đồng, far
above any programme's budget), so that even the sum of ten thousand of them fits a
PostgreSQL `bigint`, and the projections that add up without limit keep `numeric` sums.

Texts are bounded by what a person writes in the field (a name, a reason, a description),
lists by what a form or a sheet row can hold; an event built from bounded input stays far
below the size Kafka accepts for one message (`MAX_BODY_BYTES` is checked on the request
before any of this).
"""

import unicodedata
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_VND = 10**15
"""Một triệu tỷ đồng: any single amount (an activity, a share, a plan)."""
MAX_AMOUNT = Decimal(10**9)
"""A quantity: items, heads, trees, kilometres."""
MAX_COUNT = 10_000_000
"""People or households in one beneficiaries row: more than any province's population."""

NAME_LENGTH = 300
"""A unit's, a programme's, a village's name; an issuer."""
DESCRIPTION_LENGTH = 2000
"""What an activity or a commitment was, in the clerk's words."""
REASON_LENGTH = 500
"""Why something was corrected, voided, locked, ended."""
LABEL_LENGTH = 64
"""A catalogue value (category, kind, group, funding source) or a unit of measure."""
ID_LENGTH = 64
"""An id: a UUID, or a slug of the caller's choosing."""
EVIDENCE_LENGTH = 500
"""One piece of evidence: a reference or a link."""

MAX_CONTRIBUTIONS = 50
MAX_BENEFICIARY_ROWS = 20
MAX_EVIDENCE = 20
MAX_LEGAL_BASES = 50
MAX_MEMBERS = 200
MAX_COMMITMENTS = 500
MAX_DISTRICT_COMMUNES = 200
MAX_VERSION = 10**18 - 1
"""An aggregate's version, as `If-Match` and a form may name it (a stream's version is a
bigint; the envelope's `streamversion` has at most 18 digits)."""

MAX_BODY_BYTES = 256 * 1024
"""A request body other than an upload: a form's worth of JSON, with room to spare; a
recording of the largest bounded size stays far below Kafka's 1 MB per message."""

# ASCII digits: `\d` would take "٦٠" or "６０" in Python and pydantic (not in JSON Schema).
COMMUNE_CODE_PATTERN = r"^[0-9]{2,5}$"
PROVINCE_CODE_PATTERN = r"^[0-9]{2}$"

# Upper bounds: what each service requires at least (a name not blank...) is its own rule.
Vnd = Annotated[int, Field(ge=0, le=MAX_VND)]
Count = Annotated[int, Field(gt=0, le=MAX_COUNT)]
Name = Annotated[str, Field(max_length=NAME_LENGTH)]
Description = Annotated[str, Field(max_length=DESCRIPTION_LENGTH)]
Reason = Annotated[str, Field(max_length=REASON_LENGTH)]
Label = Annotated[str, Field(max_length=LABEL_LENGTH)]
Id = Annotated[str, Field(max_length=ID_LENGTH)]
Evidence = Annotated[str, Field(max_length=EVIDENCE_LENGTH)]
CommuneCode = Annotated[str, Field(pattern=COMMUNE_CODE_PATTERN)]
YEAR_MIN, YEAR_MAX = 2000, 2100
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""A spreadsheet uploaded for import, as sent."""
MAX_INFLATED_BYTES = 200 * 1024 * 1024
"""An xlsx is a zip: what its parts may grow to once unpacked (a sheet of 200,000 rows
is about 40 MB of XML)."""
MAX_IMPORT_ROWS = 200_000
"""Rows of one import: a province's year of activities, several times over."""
MAX_FILENAME_LENGTH = 255


def visible(text: str) -> str:
    """Text as people mean it: in NFC (the same letters typed on a phone, or pasted from a
    file in decomposed form, compare and sort alike), and, when not empty, with at least
    one letter, digit, mark of punctuation or symbol (a name of zero-width spaces alone is
    refused). For the APIs' text fields; the contract only bounds lengths."""
    text = unicodedata.normalize("NFC", text)
    if text and not any(unicodedata.category(ch)[0] in "LNPS" for ch in text):
        raise ValueError("chỉ có ký tự vô hình / only invisible characters")
    return text


Visible = AfterValidator(visible)
