"""Reading the sheets units report in (xlsx or CSV). Only the file format lives here; what
the columns mean is `service_layer.imports`."""

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from shared.bounds import MAX_IMPORT_ROWS, MAX_INFLATED_BYTES
from shared.spreadsheets import Cell


class UnreadableSheet(ValueError):
    """The file is not an xlsx workbook or a UTF-8 CSV file, or is larger than an import
    may be."""


def _too_many_rows() -> UnreadableSheet:
    return UnreadableSheet(
        f"tệp có hơn {MAX_IMPORT_ROWS:,} dòng: hãy chia nhỏ / more than {MAX_IMPORT_ROWS:,} "
        "rows: split the file"
    )


def read_rows(content: bytes, filename: str) -> Iterator[tuple[int, list[Cell]]]:
    """(row number as the user sees it, cells) for every non-empty row, header first; at
    most `MAX_IMPORT_ROWS` rows (a file with more is refused as it is read, whole)."""
    rows = _csv_rows(content) if filename.lower().endswith(".csv") else _xlsx_rows(content)
    for number, cells in rows:
        if number > MAX_IMPORT_ROWS + 1:  # the header, then the rows; checked up front too
            raise _too_many_rows()
        yield number, cells


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Cell]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableSheet(
            "tệp CSV phải mã hóa UTF-8 / a CSV file must be UTF-8 encoded"
        ) from error
    if text.count("\n") > MAX_IMPORT_ROWS + 1:  # before a row is recorded
        raise _too_many_rows()
    dialect: type[csv.Dialect] = csv.excel
    if text.strip():
        try:  # one column has no delimiter to find: then it is plain CSV
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        if any(cell.strip() for cell in row):
            yield number, [cell.strip() or None for cell in row]


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Cell]]]:
    _check_inflated(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several kinds for a file that is not xlsx
        raise UnreadableSheet(
            "không đọc được tệp: hãy dùng .xlsx hoặc .csv / not an xlsx or CSV file"
        ) from error
    try:
        sheet = workbook.worksheets[0]
        if (sheet.max_row or 0) > MAX_IMPORT_ROWS + 1:  # as the sheet declares its size
            raise _too_many_rows()
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(value) for value in row]
            if any(cell is not None for cell in cells):
                yield number, cells
    finally:
        workbook.close()


def _check_inflated(content: bytes) -> None:
    """An xlsx is a zip: refuse one whose parts unpack to more than `MAX_INFLATED_BYTES`
    before reading it (a small file can inflate to gigabytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise UnreadableSheet(
            "không đọc được tệp: hãy dùng .xlsx hoặc .csv / not an xlsx or CSV file"
        ) from error
    if inflated > MAX_INFLATED_BYTES:
        raise UnreadableSheet(
            f"tệp giải nén ra hơn {MAX_INFLATED_BYTES // 2**20} MB: hãy chia nhỏ / the "
            f"workbook unpacks to more than {MAX_INFLATED_BYTES // 2**20} MB"
        )


def _cell(value: Any) -> Cell:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, int | float | date | datetime):
        return value
    return str(value)
