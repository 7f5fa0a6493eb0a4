"""Reading what units upload, bounded: a CSV of one column, a workbook that unpacks to
more than an import may be, more rows than an import may have."""

import io
import zipfile

import pytest

from services.activities.adapters import sheets
from services.activities.adapters.sheets import UnreadableSheet, read_rows


def test_a_csv_of_one_column_is_read_as_plain_csv() -> None:
    rows = list(read_rows("Ngày\n21/11/2024\n22/11/2024\n".encode(), "mot-cot.csv"))

    assert rows == [(1, ["Ngày"]), (2, ["21/11/2024"]), (3, ["22/11/2024"])]


def test_a_workbook_that_unpacks_past_the_bound_is_refused_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sheets, "MAX_INFLATED_BYTES", 1_000_000)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 2_000_000)  # 2 MB of nothing

    with pytest.raises(UnreadableSheet, match="MB"):
        list(read_rows(packed.getvalue(), "bom.xlsx"))
    assert len(packed.getvalue()) < 20_000  # small as sent


def test_more_rows_than_an_import_may_have_are_refused_before_any_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sheets, "MAX_IMPORT_ROWS", 3)
    text = "Ngày,Nội dung\n" + "".join(f"2{n}/11/2024,Quà\n" for n in range(5))

    with pytest.raises(UnreadableSheet, match="3"):
        next(read_rows(text.encode(), "nhieu.csv"))
