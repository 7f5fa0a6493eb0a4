"""Reading what units upload, bounded: a CSV of one column, a workbook that unpacks to
more than an import may be, more rows than an import may have."""

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

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


def test_a_workbook_reads_as_people_typed_it() -> None:
    """A code typed as a number reads back as the code, a day as a day, an empty cell as
    nothing, and the rows keep the numbers the spreadsheet shows (two empty rows first)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A3"], sheet["B3"], sheet["C3"] = "Ngày", "Mã xã", "Giá trị (VND)"
    sheet["A4"], sheet["B4"], sheet["C4"] = date(2024, 11, 21), 23116, 21_750_000
    sheet["A5"], sheet["C5"] = "22/11/2024", 2.5
    out = io.BytesIO()
    book.save(out)

    rows = list(read_rows(out.getvalue(), "bang.xlsx"))

    assert rows == [
        (3, ["Ngày", "Mã xã", "Giá trị (VND)"]),
        (4, [date(2024, 11, 21), 23116, 21_750_000]),
        (5, ["22/11/2024", None, 2.5]),
    ]
