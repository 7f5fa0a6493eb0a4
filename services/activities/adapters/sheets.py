"""Reading the sheets units report in (xlsx or CSV). Only the file format lives here; what
the columns mean is `service_layer.imports`."""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from shared.spreadsheets import Cell


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
