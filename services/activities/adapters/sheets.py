"""Reading the sheets units report in (xlsx or CSV). Only the file format lives here; what
the columns mean is `service_layer.imports`."""

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from python_calamine import CalamineWorkbook

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
    """Read with calamine (Rust, several times openpyxl's speed; openpyxl still writes the
    template and the reports). Its numbers are floats: a whole one is an int, as a code
    like 23116 typed as a number must read back as "23116"."""
    _check_inflated(content)
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    except Exception as error:  # calamine raises several kinds for a file that is not xlsx
        raise UnreadableSheet(
            "không đọc được tệp: hãy dùng .xlsx hoặc .csv / not an xlsx or CSV file"
        ) from error
    if sheet.total_height > MAX_IMPORT_ROWS + 1:  # as the sheet declares its size
        raise _too_many_rows()
    number = 0
    try:
        for number, row in enumerate(sheet.iter_rows(), start=1):  # row 1 is the sheet's
            cells = [_cell(value) for value in row]
            if any(cell is not None for cell in cells):
                yield number, cells
    except (ValueError, TypeError, OSError) as error:  # damaged within
        raise UnreadableSheet(
            f"tệp hỏng ở dòng {number + 1} / the file is damaged: {error}"[:300]
        ) from error


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
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if value is None or isinstance(value, int | float | date | datetime):
        return value
    return str(value)
