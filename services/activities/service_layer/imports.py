"""Importing a sheet of activities the way units report today.

Every row is read and checked; each problem is reported with its row, column and a
reason in Vietnamese; the good rows are recorded, a chunk of rows per transaction. Each
row's activity id is derived from its content (and how many identical rows came before it
in the file), so importing the same file again records nothing new.
"""

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from sqlalchemy import and_, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.activities.adapters.sheets import UnreadableSheet, read_rows
from services.activities.adapters.tables import (
    imports,
    known_assignment_communes,
    known_assignments,
    known_members,
    known_units,
)
from services.activities.domain.activities import Beneficiaries, Contribution, Facts, Quantity
from services.activities.domain.assignments import REFORM_DAY
from services.activities.service_layer import access, commands
from services.activities.service_layer.commands import NewActivity
from services.activities.service_layer.unit_of_work import ActivitiesUnit, unit_of_work
from shared import catalogue, provinces
from shared.auth import Forbidden, Principal
from shared.db import one_row
from shared.editions import FROM_2025, PRE_2025
from shared.errors import RuleViolation
from shared.progress import Progress, no_progress
from shared.spreadsheets import Cell
from shared.text import fold

IMPORTED = uuid.UUID("0b7d3f6e-4a51-4c1e-9a57-3f1d2c8e5a90")
CHUNK = 2_000


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    example: Cell = None


COLUMNS = (
    Column("Ngày", "occurred_on", True, "30/09/2024"),
    Column("Mã xã", "commune_code", True, "23074"),
    Column("Phiên bản đơn vị hành chính", "edition", False, "trước 2025"),
    Column("Mã phân công", "assignment_id", False),
    Column("Đơn vị thực hiện", "unit", True, "Sở Công Thương tỉnh Bình Thuận"),
    Column("Hạng mục", "category", True, catalogue.CATEGORIES["scholarship_school_equipment"]),
    Column("Nội dung", "description", True, "Tặng 15 xe đạp cho học sinh nghèo"),
    Column("Giá trị (VND)", "value_vnd", True, 21_750_000),
    Column("Số lượng", "amount", False, 15),
    Column("Đơn vị tính", "quantity_unit", False, "chiếc"),
    Column("Số đối tượng hưởng lợi", "beneficiaries", False, 15),
    Column("Loại đối tượng", "beneficiary_kind", False, catalogue.BENEFICIARY_KINDS["pupils"]),
    Column("Nhóm đối tượng", "beneficiary_group", False, catalogue.BENEFICIARY_GROUPS["poor"]),
    Column("Nguồn kinh phí", "funding_source", False, catalogue.FUNDING_SOURCES["own_budget"]),
    Column("Minh chứng", "evidence", False, "Biên bản bàn giao ngày 30/9/2024"),
    Column("Mã cam kết", "commitment_id", False),
)
BY_KEY = {column.key: column for column in COLUMNS}
# Which column a domain rule's field came from, to report it where the user typed it.
FIELD_COLUMNS = {
    "occurred_on": "occurred_on",
    "commune_code": "commune_code",
    "commune_edition": "edition",
    "assignment_id": "assignment_id",
    "contributions": "unit",
    "category": "category",
    "description": "description",
    "value_vnd": "value_vnd",
    "quantity": "amount",
    "beneficiaries": "beneficiaries",
    "funding_source": "funding_source",
    "commitment_id": "commitment_id",
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class Report:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    rows: int = 0
    recorded: int = 0
    already_recorded: int = 0
    errors: list[RowError] = field(default_factory=list)


class BadCell(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        super().__init__(reason)


# -- reading cells --------------------------------------------------------------------------
def _text(value: Cell) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Cell) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise BadCell("occurred_on", f"ngày {text!r} không đúng dạng dd/mm/yyyy (ví dụ 30/09/2024)")


GROUPED = re.compile(r"^-?\d{1,3}([.,]\d{3})+$")


def _number(value: Cell, key: str) -> Decimal:
    """A number as typed: 21750000, 21.750.000 or 21,750,000 (thousands), 2,5 (decimal)."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = _text(value).replace(" ", "")
    grouped = GROUPED.match(text)
    text = text.replace(".", "").replace(",", "") if grouped else text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise BadCell(key, f"{_text(value)!r} không phải là số") from None


def _whole(value: Cell, key: str) -> int:
    number = _number(value, key)
    if number != number.to_integral_value():
        raise BadCell(key, f"{_text(value)!r} phải là số nguyên")
    return int(number)


@dataclass(frozen=True)
class Choices:
    """A catalogue as a sheet names its entries: a code or its Vietnamese label, with or
    without diacritics (folded once, not for every cell)."""

    codes: dict[str, str]  # folded code or label → code
    listed: str

    @classmethod
    def of(cls, choices: dict[str, str] | Sequence[str]) -> "Choices":
        pairs = choices.items() if isinstance(choices, dict) else [(c, c) for c in choices]
        codes: dict[str, str] = {}
        for code, label in pairs:  # the first entry a name fits wins, as listed
            codes.setdefault(fold(code), code)
            codes.setdefault(fold(label), code)
        return cls(codes, ", ".join(label for _code, label in pairs))


CHOICES = {
    "category": Choices.of(dict(catalogue.CATEGORIES)),
    "funding_source": Choices.of(dict(catalogue.FUNDING_SOURCES)),
    "quantity_unit": Choices.of(catalogue.QUANTITY_UNITS),
    "beneficiary_kind": Choices.of(dict(catalogue.BENEFICIARY_KINDS)),
    "beneficiary_group": Choices.of(dict(catalogue.BENEFICIARY_GROUPS)),
}


def _choice(value: Cell, key: str) -> str:
    """The code a cell names (`Choices`)."""
    choices = CHOICES[key]
    code = choices.codes.get(fold(_text(value)))
    if code is None:
        raise BadCell(key, f"{_text(value)!r} không có trong danh mục ({choices.listed})")
    return code


def _edition(value: Cell, day: date) -> str:
    text = fold(_text(value))
    if not text:  # codes as they stood on the day
        return PRE_2025 if day < REFORM_DAY else FROM_2025
    if text in ("truoc 2025", PRE_2025, "cu"):
        return PRE_2025
    if text in (FROM_2025, "tu 2025", "moi"):
        return FROM_2025
    raise BadCell("edition", f"{_text(value)!r}: ghi 'trước 2025' hoặc '2025'")


# -- one row --------------------------------------------------------------------------------
@dataclass
class Row:
    number: int
    cells: dict[str, Cell]
    errors: list[RowError] = field(default_factory=list)
    facts: Facts | None = None
    unit: str = ""
    day: date | None = None
    edition: str = ""

    def fail(self, key: str, reason: str) -> None:
        self.errors.append(RowError(self.number, BY_KEY[key].header, reason))

    def get(self, key: str) -> Cell:
        return self.cells.get(key)


def _first_reading(row: Row) -> dict[str, Any]:
    """Every cell that can be read without the database; problems go to `row.errors`."""
    read: dict[str, Any] = {}

    def take(key: str, reader: Any) -> None:
        """Read the cell if it is there (a missing required one is reported above), so
        that every fault of the row is listed, not only the first."""
        if row.get(key) is None:
            return
        try:
            read[key] = reader(row.get(key))
        except BadCell as bad:
            row.fail(bad.key, str(bad))

    for column in COLUMNS:
        if column.required and row.get(column.key) is None:
            row.fail(column.key, f"thiếu {column.header}")
    take("occurred_on", _date)
    take("value_vnd", lambda v: _whole(v, "value_vnd"))
    take("category", lambda v: _choice(v, "category"))
    if row.get("funding_source") is not None:
        take("funding_source", lambda v: _choice(v, "funding_source"))
    if row.get("amount") is not None:
        take("amount", lambda v: _number(v, "amount"))
        if row.get("quantity_unit") is None:
            row.fail("quantity_unit", "có Số lượng thì cần Đơn vị tính")
        else:
            take("quantity_unit", lambda v: _choice(v, "quantity_unit"))
    if row.get("beneficiaries") is not None:
        take("beneficiaries", lambda v: _whole(v, "beneficiaries"))
        for key in ("beneficiary_kind", "beneficiary_group"):
            if row.get(key) is None:
                row.fail(key, f"có Số đối tượng hưởng lợi thì cần {BY_KEY[key].header}")
            else:
                take(key, lambda v, key=key: _choice(v, key))
    if "occurred_on" in read:
        try:
            row.day = read["occurred_on"]
            row.edition = _edition(row.get("edition"), read["occurred_on"])
        except BadCell as bad:
            row.fail(bad.key, str(bad))
    row.unit = _text(row.get("unit"))
    return read


def _facts(row: Row, read: dict[str, Any], unit_id: str, assignment_id: str) -> None:
    amount = read.get("amount")
    try:
        row.facts = Facts(
            assignment_id=assignment_id,
            commune_edition=row.edition,
            commune_code=_text(row.get("commune_code")),
            occurred_on=read["occurred_on"],
            category=read["category"],
            description=_text(row.get("description")),
            value_vnd=read["value_vnd"],
            contributions=(Contribution(unit_id, read["value_vnd"]),),
            funding_source=read.get("funding_source", "own_budget"),
            quantity=Quantity(amount, read["quantity_unit"]) if amount is not None else None,
            beneficiaries=_beneficiaries(read),
            evidence=(_text(row.get("evidence")),) if row.get("evidence") else (),
            commitment_id=_text(row.get("commitment_id")) or None,
        )
    except RuleViolation as broken:
        row.fail(_column_of(broken.field), str(broken))


def _beneficiaries(read: dict[str, Any]) -> tuple[Beneficiaries, ...]:
    if "beneficiaries" not in read:
        return ()
    return (
        Beneficiaries(read["beneficiaries"], read["beneficiary_kind"], read["beneficiary_group"]),
    )


def _column_of(field_name: str) -> str:
    return FIELD_COLUMNS.get(field_name.split(".")[0], "description")


# -- the file -------------------------------------------------------------------------------
def _header_keys(cells: list[Cell]) -> list[str | None]:
    by_header = {fold(column.header): column.key for column in COLUMNS}
    keys = [by_header.get(fold(_text(cell))) for cell in cells]
    missing = [c.header for c in COLUMNS if c.required and c.key not in keys]
    if missing:
        raise RuleViolation(
            "file",
            f"dòng tiêu đề thiếu cột: {', '.join(missing)} (hãy dùng tệp mẫu) / "
            "the header row lacks required columns (use the template)",
        )
    return keys


def _opened(content: bytes, filename: str) -> Iterator[Row]:
    """The sheet's rows after its header, which is read and checked now: a file that is not
    a sheet, is empty or lacks a required column is refused before any work starts."""
    lines = read_rows(content, filename)
    header = next(lines, None)
    if header is None:
        raise RuleViolation("file", "tệp không có dữ liệu / the file is empty")
    keys = _header_keys(header[1])
    return (
        Row(number, {k: v for k, v in zip(keys, cells, strict=False) if k is not None})
        for number, cells in lines
    )


def _take(rows: Iterator[Row], size: int) -> list[Row]:
    return list(islice(rows, size))


@dataclass(frozen=True)
class ImportJob:
    """An import that was accepted and runs in the background (`run_import`)."""

    id: uuid.UUID
    province: str
    caller: Principal
    filename: str
    topic: str
    correlation_id: uuid.UUID
    rows: Iterator[Row] = field(repr=False)


async def start_import(
    engine: AsyncEngine,
    *,
    province: str,
    caller: Principal,
    content: bytes,
    filename: str,
    topic: str,
    correlation_id: uuid.UUID,
) -> ImportJob:
    """Check who imports, the province and the file's header (in a worker thread: reading
    an xlsx is CPU work), and record the import as running. The rows are `run_import`'s."""
    access.require_import(caller, province)
    if province not in provinces.codes():
        raise RuleViolation(
            "province", f"không có tỉnh mã {province} / no province with code {province}",
            location="query",
        )  # fmt: skip
    try:
        rows = await asyncio.to_thread(_opened, content, filename)
    except UnreadableSheet as unreadable:
        raise RuleViolation("file", str(unreadable)) from unreadable
    job = ImportJob(uuid.uuid4(), province, caller, filename[:255], topic, correlation_id, rows)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            insert(imports).values(
                id=job.id, province=province, filename=job.filename,
                actor=caller.actor.as_dict(), started_at=now, updated_at=now, status=RUNNING,
                rows=0, recorded=0, already_recorded=0, refused_rows=0, errors=[],
            )
        )  # fmt: skip
    return job


RUNNING, DONE, FAILED = "running", "done", "failed"
KEPT_ERRORS = 10_000  # an import keeps this many refusals by row and column; it counts all
STALLED = timedelta(minutes=5)  # running, and no word for this long: the service stopped


async def run_import(
    engine: AsyncEngine, job: ImportJob, chunk: int = CHUNK, progress: Progress = no_progress
) -> Report:
    """Check and record the rows, `chunk` per transaction, the import's counts written in
    the same transaction as the rows they count; then its result. A file that turns out
    unreadable, or the service stopping, leaves the import `failed` with the reason, and
    the chunks recorded before it (importing the file again records only the rest).

    Two stages overlap: while a chunk is written (its transaction mostly waits for the
    database), the next one is read and its cells and names checked (`_prepare`). What
    must hold at the moment of writing (locks, the registry's assignments, plans) is
    checked in the writing transaction (`_record`)."""
    report = Report(id=job.id)
    seen: Counter[str] = Counter()
    following = asyncio.create_task(_prepared(engine, job, chunk, seen))
    try:
        while (prepared := await following) is not None:
            following = asyncio.create_task(_prepared(engine, job, chunk, seen))
            report.rows += len(prepared.rows)
            async with engine.connect() as conn:
                uow = unit_of_work(conn, job.topic, job.correlation_id, job.caller.actor)
                async with uow:
                    await _record(uow, job.caller, prepared, report)
                    await conn.execute(_counted(job.id, report))
            progress(report.rows, 0)
    except UnreadableSheet as unreadable:
        await _finish(engine, job.id, report, FAILED, str(unreadable))
    except asyncio.CancelledError:
        await _finish(engine, job.id, report, FAILED, INTERRUPTED)
        raise
    except Exception:
        await _finish(engine, job.id, report, FAILED, "lỗi của dịch vụ / the service failed")
        raise
    else:
        await _finish(engine, job.id, report, DONE)
    finally:
        if not following.done():
            following.cancel()
        with contextlib.suppress(BaseException):
            await following
    return report


INTERRUPTED = (
    "dịch vụ dừng giữa chừng: hãy nhập lại tệp, các dòng đã ghi không bị ghi lần nữa / "
    "the service stopped: import the file again, rows already recorded are not recorded twice"
)


def _counted(job_id: uuid.UUID, report: Report) -> Any:
    return (
        update(imports)
        .where(imports.c.id == job_id)
        .values(
            rows=report.rows,
            recorded=report.recorded,
            already_recorded=report.already_recorded,
            refused_rows=len({error.row for error in report.errors}),
            updated_at=datetime.now(UTC),
        )
    )


async def _finish(
    engine: AsyncEngine, job_id: uuid.UUID, report: Report, status: str, failure: str | None = None
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            _counted(job_id, report).values(
                status=status,
                failure=failure,
                finished_at=datetime.now(UTC),
                errors=[asdict(error) for error in report.errors[:KEPT_ERRORS]],
            )
        )


async def find_import(conn: AsyncConnection, import_id: uuid.UUID) -> dict[str, Any]:
    """An import as it stands: its counts so far, or its result."""
    query = select(imports).where(imports.c.id == import_id)
    missing = f"Không có lần nhập {import_id} / no import {import_id}"
    return describe_import(dict(await one_row(conn, query, missing)))


def describe_import(found: dict[str, Any]) -> dict[str, Any]:
    if found["status"] == RUNNING and datetime.now(UTC) - found["updated_at"] > STALLED:
        found |= {"status": FAILED, "failure": INTERRUPTED}
    found["summary"] = (
        f"{found['rows']} dòng: ghi {found['recorded']}, đã có từ trước "
        f"{found['already_recorded']}, lỗi {found['refused_rows']}"
        + (" (đang nhập…)" if found["status"] == RUNNING else "")
    )
    found["errors_kept"] = len(found["errors"])
    return found


async def history(conn: AsyncConnection, province: str) -> list[dict[str, Any]]:
    """The province's imports, newest first: who, when, which file, what became of it."""
    rows = await conn.execute(
        select(imports).where(imports.c.province == province).order_by(imports.c.started_at.desc())
    )
    return [
        {**describe_import(dict(row._mapping)), "errors": row.errors[:HISTORY_ERRORS]}
        for row in rows
    ]


HISTORY_ERRORS = 20  # the history shows each import's first refusals; the import all it kept


@dataclass
class Prepared:
    """A chunk read and checked as far as the sheet and the registry's names go: its rows
    (with their faults so far) and the activities the good ones make."""

    rows: list[Row]
    candidates: list[tuple[Row, NewActivity]]


async def _prepared(
    engine: AsyncEngine, job: ImportJob, chunk: int, seen: Counter[str]
) -> Prepared | None:
    """The next chunk `_prepare`d, in a connection of its own; None after the last."""
    rows = await asyncio.to_thread(_take, job.rows, chunk)
    if not rows:
        return None
    async with engine.connect() as conn:
        return Prepared(rows, await _prepare(conn, job.province, rows, seen))


async def _prepare(
    conn: AsyncConnection, province: str, rows: list[Row], seen: Counter[str]
) -> list[tuple[Row, NewActivity]]:
    """Read the cells, find the units and assignments they name, make each good row's
    activity and its id."""
    readings = [_first_reading(row) for row in rows]
    units = await _units(conn, province, {row.unit for row in rows})
    communes = {(row.edition, _text(row.get("commune_code"))) for row in rows}
    helpers = await _helpers(conn, province, communes)
    for row, read in zip(rows, readings, strict=True):
        unit_id = units.get(fold(row.unit), row.unit if row.unit in units.values() else None)
        if unit_id is None and row.unit:
            row.fail("unit", f"không có đơn vị {row.unit!r} trong tỉnh {province}")
        if row.errors or unit_id is None:
            continue
        assignment_id = _text(row.get("assignment_id")) or _assignment_of(row, unit_id, helpers)
        if assignment_id:
            _facts(row, read, unit_id, assignment_id)
    return [
        (row, NewActivity(_activity_id(province, row.facts, seen), row.facts))
        for row in rows
        if row.facts is not None and not row.errors
    ]


async def _record(
    uow: ActivitiesUnit, caller: Principal, prepared: Prepared, report: Report
) -> None:
    """Record the chunk's new activities that pass the checks of the moment, in the
    unit's transaction; the rest are counted as already recorded or refused."""
    candidates = prepared.candidates
    already = await uow.activities.taken([item.id for _row, item in candidates])
    fresh = [(row, item) for row, item in candidates if item.id not in already]
    report.already_recorded += len(candidates) - len(fresh)
    checked = await commands.check_activities(uow.reads, [item for _row, item in fresh], caller)
    good = []
    for index, (row, item) in enumerate(fresh):
        problem = checked.problems.get(index)
        if problem is None:
            good.append(item)
        elif isinstance(problem, RuleViolation):
            row.fail(_column_of(problem.field), str(problem))
        elif isinstance(problem, Forbidden):
            row.fail("unit", str(problem))
        else:
            row.fail("occurred_on", str(problem))
    if good:
        await commands.record_checked(uow, good, checked.provinces)
    report.recorded += len(good)
    report.errors += [error for row in prepared.rows for error in row.errors]


def _activity_id(province: str, facts: Facts, seen: Counter[str]) -> str:
    content = repr((province, sorted(facts.data().items())))
    digest = hashlib.sha256(content.encode()).hexdigest()
    seen[digest] += 1  # identical rows in one file are distinct activities
    return str(uuid.uuid5(IMPORTED, f"{digest}#{seen[digest]}"))


async def _units(conn: AsyncConnection, province: str, names: set[str]) -> dict[str, str]:
    """folded name (or id) → unit id, for the units of the province named in the chunk."""
    rows = await conn.execute(
        select(known_units.c.id, known_units.c.name).where(known_units.c.province == province)
    )
    wanted = {fold(name) for name in names}
    found = {}
    for unit_id, name in rows:
        if fold(name) in wanted or unit_id in names:
            found[fold(name)] = unit_id
    return found


Helper = tuple[str, str, date, date | None]  # assignment, unit, joined, left


async def _helpers(
    conn: AsyncConnection, province: str, communes: set[tuple[str, str]]
) -> dict[tuple[str, str], list[Helper]]:
    """The members of the province's assignments on each of these communes."""
    c, m, a = known_assignment_communes.c, known_members.c, known_assignments.c
    rows = await conn.execute(
        select(c.edition, c.code, m.assignment_id, m.sponsor_unit_id, m.joined_on, m.left_on)
        .join(known_members, m.assignment_id == c.assignment_id)
        .join(known_assignments, and_(a.id == c.assignment_id, a.province == province))
        .where(tuple_(c.edition, c.code).in_(communes))
    )
    found: dict[tuple[str, str], list[Helper]] = {}
    for edition, code, assignment_id, unit_id, joined, left in rows:
        found.setdefault((edition, code), []).append((assignment_id, unit_id, joined, left))
    return found


def _assignment_of(row: Row, unit_id: str, helpers: dict[tuple[str, str], list[Helper]]) -> str:
    """The one assignment under which the unit helped the row's commune on its day."""
    day = row.day
    assert day is not None
    commune = (row.edition, _text(row.get("commune_code")))
    matching = {
        assignment
        for assignment, unit, joined, left in helpers.get(commune, [])
        if unit == unit_id and joined <= day and (left is None or day <= left)
    }
    if len(matching) == 1:
        return matching.pop()
    if commune not in helpers:
        row.fail(
            "commune_code",
            f"xã mã {commune[1]} ({commune[0]}) không có trong phân công nào của tỉnh: "
            "mã xã sai, hoặc sai phiên bản đơn vị hành chính?",
        )
    elif matching:
        row.fail("assignment_id", "đơn vị giúp xã này theo nhiều phân công: hãy ghi Mã phân công")
    else:
        row.fail(
            "unit",
            f"đơn vị {row.unit!r} không được phân công giúp xã {commune[1]} ({commune[0]}) "
            f"vào ngày {day:%d/%m/%Y}",
        )
    return ""
