"""Writing what people open in Excel: workbooks with Vietnamese headers, and CSV."""

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

Cell = str | int | float | date | datetime | None


def write_workbook(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    lists: dict[str, Sequence[str]] | None = None,
    title: str = "Hoạt động",
) -> bytes:
    """A workbook with the headers (bold, frozen), example rows, and a second sheet of the
    accepted values for the columns that take a value from a list."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append(list(row))
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(header) + 2)
    sheet.freeze_panes = "A2"
    reference = workbook.create_sheet("Danh mục") if lists else None
    for column, (heading, values) in enumerate((lists or {}).items(), start=1):
        assert reference is not None
        reference.cell(row=1, column=column, value=heading).font = Font(bold=True)
        for row_number, value in enumerate(values, start=2):
            reference.cell(row=row_number, column=column, value=value)
        reference.column_dimensions[get_column_letter(column)].width = 40
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM, so that Excel shows the Vietnamese letters."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")
