"""Reading the sheets units report in (xlsx or CSV) and writing the template they start
from. Only the file format lives here; what the columns mean is `service_layer.imports`."""

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

Cell = str | int | float | date | datetime | None


class UnreadableSheet(ValueError):
    """The file is not an xlsx workbook or a UTF-8 CSV file."""


def read_rows(content: bytes, filename: str) -> Iterator[tuple[int, list[Cell]]]:
    """(row number as the user sees it, cells) for every non-empty row, header first."""
    if filename.lower().endswith(".csv"):
        yield from _csv_rows(content)
    else:
        yield from _xlsx_rows(content)


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Cell]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableSheet(
            "tệp CSV phải mã hóa UTF-8 / a CSV file must be UTF-8 encoded"
        ) from error
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        if any(cell.strip() for cell in row):
            yield number, [cell.strip() or None for cell in row]


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Cell]]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several kinds for a file that is not xlsx
        raise UnreadableSheet(
            "không đọc được tệp: hãy dùng .xlsx hoặc .csv / not an xlsx or CSV file"
        ) from error
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(value) for value in row]
            if any(cell is not None for cell in cells):
                yield number, cells
    finally:
        workbook.close()


def _cell(value: Any) -> Cell:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, int | float | date | datetime):
        return value
    return str(value)


def write_workbook(
    headers: Sequence[str], rows: Sequence[Sequence[Cell]], lists: dict[str, Sequence[str]]
) -> bytes:
    """A workbook with the headers (bold, frozen), example rows, and a second sheet of the
    accepted values for the columns that take a value from a list."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Hoạt động"
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append(list(row))
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(header) + 2)
    sheet.freeze_panes = "A2"
    reference = workbook.create_sheet("Danh mục")
    for column, (title, values) in enumerate(lists.items(), start=1):
        reference.cell(row=1, column=column, value=title).font = Font(bold=True)
        for row_number, value in enumerate(values, start=2):
            reference.cell(row=row_number, column=column, value=value)
        reference.column_dimensions[get_column_letter(column)].width = 40
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
