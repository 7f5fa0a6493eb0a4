"""Writing what people open in Excel: workbooks with Vietnamese headers, and CSV."""

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

Cell = str | int | float | date | datetime | None
LISTS_SHEET = "Danh mục"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, CSV injection)."""
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]+")
TEMPLATE_ROWS = 10_000  # the rows of the first sheet that offer the drop-down lists


def write_workbook(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    lists: dict[str, Sequence[str]] | None = None,
    title: str = "Hoạt động",
) -> bytes:
    """A workbook with the headers (bold, frozen), example rows, and a second sheet of the
    accepted values for the columns that take a value from a list; each such column of the
    first sheet offers them as a drop-down list and refuses anything else."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title(title)
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append([neutralised(cell) for cell in row])
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(header) + 2)
    sheet.freeze_panes = "A2"
    reference = workbook.create_sheet(LISTS_SHEET) if lists else None
    for column, (heading, values) in enumerate((lists or {}).items(), start=1):
        assert reference is not None
        reference.cell(row=1, column=column, value=heading).font = Font(bold=True)
        for row_number, value in enumerate(values, start=2):
            reference.cell(row=row_number, column=column, value=value)
        reference.column_dimensions[get_column_letter(column)].width = 40
        if heading in headers:
            _drop_down(sheet, get_column_letter(list(headers).index(heading) + 1),
                       get_column_letter(column), len(values))  # fmt: skip
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _drop_down(sheet: Worksheet, column: str, listed: str, count: int) -> None:
    """Column `column` of `sheet` takes one of the `count` values in column `listed` of
    the "Danh mục" sheet, from a drop-down list."""
    choices = DataValidation(
        type="list",
        formula1=f"'{LISTS_SHEET}'!${listed}$2:${listed}${count + 1}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Không có trong danh mục",
        error="Hãy chọn một giá trị trong danh sách / choose a value from the list",
    )
    sheet.add_data_validation(choices)
    choices.add(f"{column}2:{column}{TEMPLATE_ROWS + 1}")


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM, so that Excel shows the Vietnamese letters; no field can start a
    formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralised(header) for header in headers])
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def neutralised(cell: Cell) -> Cell:
    """Text that a spreadsheet would take for a formula (`=HYPERLINK(...)`, `+1`, `@SUM`),
    with a `'` in front, as OWASP advises: shown as written, never run. Numbers stay
    numbers (a negative amount is a number, not text)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def sheet_title(title: str) -> str:
    """A title Excel accepts: none of `[]:*?/\\`, at most 31 characters, not blank."""
    cleaned = SHEET_TITLE_FORBIDDEN.sub(" ", title).strip().strip("'")[:31].strip()
    return cleaned or "Báo cáo"


def content_disposition(name: str) -> str:
    """`attachment` with the file's name as RFC 6266 says: `filename*` in UTF-8 for the
    Vietnamese name, and a plain ASCII `filename` for older clients (letters without their
    marks, anything else an underscore); no quote, CR or LF can break out of it."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    ascii_stem = unicodedata.normalize("NFKD", stem.replace("đ", "d").replace("Đ", "D"))
    ascii_stem = ascii_stem.encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem).strip("._")[:100] or "tai-ve"
    ascii_extension = re.sub(r"[^A-Za-z0-9]", "", extension)[:10]
    fallback = ascii_stem + (f".{ascii_extension}" if ascii_extension else "")
    encoded = quote(name[:200], safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
