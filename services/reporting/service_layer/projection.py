"""The reporting projections, from the registry's and the activities' events.

Applied through `shared.consumer.IdempotentConsumer` (an event seen twice changes nothing).
An activity's events share its commune's Kafka key, so they arrive in order; should a
correction or void still come before the recording it amends (a topic replayed from a
partial copy, say), it waits in `pending_activity_events` and is applied when its turn
comes, so the totals never depend on arrival order.
"""

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import msgspec
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    Numeric,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    column,
    delete,
    exists,
    extract,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.reporting.adapters.tables import (
    activity_versions,
    assignment_targets,
    assignments,
    commitments,
    commune_beneficiaries,
    commune_quantities,
    commune_totals,
    commune_unit_totals,
    communes,
    leads,
    members,
    pending_activity_events,
    programmes,
    province_totals,
    sponsor_units,
    successions,
)
from shared.consumer import Delivery
from shared.contract import (
    EVENT_TYPES,
    AssignmentCreated,
    AssignmentEnded,
    CommitmentAdded,
    CommitmentData,
    LeadAssigned,
    MemberLeft,
    Membership,
    PlanCreated,
    ProgrammeCreated,
    SponsorUnitRegistered,
    Target,
    TargetSucceeded,
    checker,
    parse,
    to_json,
)
from shared.db import copy_records
from shared.editions import FROM_2025, PRE_2025
from shared.envelope import Attributes, Envelope
from shared.events import ACTIVITY_EVENTS, REGISTRY_EVENTS

REGISTRY = REGISTRY_EVENTS
ACTIVITY = ACTIVITY_EVENTS


# -- the registry and the plans -------------------------------------------------------------
async def _apply_one(conn: AsyncConnection, event: Envelope) -> None:
    """A registry or plan event, read as its contract model (the consumer has checked it
    against the contract already); the registry's assignment events name their assignment
    as the subject."""
    subject = str(event.subject)
    match data := parse(event.type, event.data):
        case SponsorUnitRegistered():
            await conn.execute(
                insert(sponsor_units).values(
                    id=data.sponsor_unit_id, province=data.province, name=data.name,
                    kind=data.kind,
                )
            )  # fmt: skip
        case ProgrammeCreated():
            await conn.execute(
                insert(programmes).values(
                    id=data.programme_id, province=data.province, name=data.name,
                    start_year=data.period.start_year, end_year=data.period.end_year,
                )
            )  # fmt: skip
        case AssignmentCreated():
            await _assignment(conn, data)
        case LeadAssigned():
            row = {"assignment_id": subject, "year": data.year,
                   "sponsor_unit_id": data.sponsor_unit_id}  # fmt: skip
            upsert = insert(leads).values(row)
            await conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=[leads.c.assignment_id, leads.c.year],
                    set_={"sponsor_unit_id": upsert.excluded.sponsor_unit_id},
                )
            )
        case Membership():  # a member joined
            await conn.execute(insert(members).values(_member(subject, data)))
        case MemberLeft():
            await conn.execute(
                update(members)
                .where(
                    members.c.assignment_id == subject,
                    members.c.sponsor_unit_id == data.sponsor_unit_id,
                )
                .values(left_on=data.left_on)
            )
        case TargetSucceeded():
            mine = assignment_targets.c.assignment_id == subject
            seq = await conn.scalar(
                select(assignment_targets.c.seq).where(mine, assignment_targets.c.current)
            )
            await conn.execute(update(assignment_targets).where(mine).values(current=False))
            await _add_target(conn, subject, (seq or 0) + 1, data.to)
        case AssignmentEnded():
            await conn.execute(
                update(assignments)
                .where(assignments.c.id == subject)
                .values(ended_on=data.ended_on)
            )
        case PlanCreated():
            await _commitments(conn, data.assignment_id, data.year, data.commitments)
        case CommitmentAdded():
            await _commitments(conn, data.assignment_id, data.year, [data])


APPLIED = frozenset(
    EVENT_TYPES[model]
    for model in (
        SponsorUnitRegistered, ProgrammeCreated, AssignmentCreated, LeadAssigned, Membership,
        MemberLeft, TargetSucceeded, AssignmentEnded, PlanCreated, CommitmentAdded,
    )
)  # fmt: skip
"""The registry's and plans' event types `_apply_one` applies. Legal bases, villages,
classifications and locks do not enter the reports."""


async def _assignment(conn: AsyncConnection, data: AssignmentCreated) -> None:
    assignment = data.assignment_id
    await conn.execute(
        insert(assignments).values(
            id=assignment, programme_id=data.programme_id, province=data.province,
            start_year=data.period.start_year, end_year=data.period.end_year,
        )
    )  # fmt: skip
    await _add_target(conn, assignment, 1, data.target)
    await conn.execute(insert(members), [_member(assignment, m) for m in data.members])
    if data.leads:
        await conn.execute(
            insert(leads),
            [
                {"assignment_id": assignment, "year": int(year), "sponsor_unit_id": unit}
                for year, unit in data.leads.items()
            ],
        )


async def _commitments(
    conn: AsyncConnection, assignment_id: str, year: int, added: Sequence[CommitmentData]
) -> None:
    if not added:
        return
    await conn.execute(
        insert(commitments),
        [
            {"assignment_id": assignment_id, "year": year, "id": c.commitment_id,
             "description": c.description, "category": c.category, "quarter": c.quarter,
             "planned_value_vnd": c.planned_value_vnd,
             "planned_quantity": to_json(c.planned_quantity) if c.planned_quantity else None}
            for c in added
        ],
    )  # fmt: skip


LINEAGE = REGISTRY + "lineage.published.v1"


async def _lineages(conn: AsyncConnection, events: list[Envelope]) -> None:
    """What old communes became: names of both editions, and each one's successor when it
    went wholly into one (a split commune's figures are never divided between several).
    A run at a time: the registry publishes the 10,035 of the 2025 reform at once."""
    if not events:
        return
    names: dict[tuple[str, str], dict[str, Any]] = {}
    became: dict[str, dict[str, Any]] = {}
    for event in events:
        data = event.data
        old, successors = data["old"]["code"], data["successors"]
        names.setdefault(
            (PRE_2025, old),
            {
                "edition": PRE_2025,
                "code": old,
                "name": data["old_name"],
                "province_code": data["old_province_code"],
            },
        )
        for s in successors:
            names.setdefault(
                (FROM_2025, s["code"]),
                {
                    "edition": FROM_2025,
                    "code": s["code"],
                    "name": s["name"],
                    "province_code": s["province_code"],
                },
            )
        whole = [s for s in successors if s["share"] == "whole"]
        single = whole[0] if len(successors) == 1 and whole else None
        became[old] = {  # published again: the later one holds
            "old_code": old,
            "new_code": single["code"] if single else None,
            "new_province": single["province_code"] if single else None,
            "successors": [s["code"] for s in successors],
        }
    await conn.execute(insert(communes).on_conflict_do_nothing(), list(names.values()))
    upsert = insert(successions)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[successions.c.old_code],
            set_={key: upsert.excluded[key] for key in ("new_code", "new_province", "successors")},
        ),
        [became[old] for old in sorted(became)],
    )


def _member(assignment_id: str, data: Membership) -> dict[str, Any]:
    return {
        "assignment_id": assignment_id,
        "sponsor_unit_id": data.sponsor_unit_id,
        "joined_on": data.joined_on,
        "left_on": data.left_on,
    }


async def _add_target(conn: AsyncConnection, assignment_id: str, seq: int, target: Target) -> None:
    await conn.execute(
        insert(assignment_targets).values(
            assignment_id=assignment_id, seq=seq, kind=target.kind, edition=target.edition,
            code=target.code, current=True, name=target.name,
        )
    )  # fmt: skip


# -- activities -----------------------------------------------------------------------------
class Version(NamedTuple):
    """An `activity_versions` row, in its columns' order (as COPY takes it; a unit test
    holds the two equal)."""

    activity_id: str
    version: int
    valid_from: datetime
    valid_to: datetime | None
    event_id: UUID
    province: str
    assignment_id: str
    commune_edition: str
    commune_code: str
    occurred_on: date
    category: str
    value_vnd: int
    voided: bool
    facts: str | dict[str, Any]  # JSON text as recorded; the JSONB of a row read back


COLUMNS = Version._fields


class _Place(Protocol):
    edition: str
    code: str


class _Columns(Protocol):
    """What a version's columns take from its facts: the contract's checked structure of a
    recording (`read_recording`) has these attributes, and so has `_FactsColumns`."""

    assignment_id: str
    occurred_on: date
    category: str
    value_vnd: int

    @property
    def commune(self) -> _Place: ...


class _PlaceColumns(msgspec.Struct):
    edition: str
    code: str


class _FactsColumns(msgspec.Struct):
    assignment_id: str
    commune: _PlaceColumns
    occurred_on: date
    category: str
    value_vnd: int


def _version(event: Envelope, facts: dict[str, Any], voided: bool) -> Version:
    """The version an event makes; `facts` are kept whole, as the event carried them."""
    columns = msgspec.convert(facts, _FactsColumns)
    whole = msgspec.json.encode(facts).decode()
    return _row(activity_id=event.subject, version=event.streamversion, valid_from=event.time,
                event_id=event.id, province=event.province, columns=columns, voided=voided,
                facts=whole)  # fmt: skip


def _row(
    *,
    activity_id: str,
    version: int,
    valid_from: datetime,
    event_id: UUID,
    province: str,
    columns: _Columns,
    voided: bool,
    facts: str,
) -> Version:
    """The one place a version is made, from an event's attributes and its facts (read
    into `columns`, and whole as JSON text)."""
    return Version(
        activity_id=activity_id, version=version, valid_from=valid_from, valid_to=None,
        event_id=event_id, province=province, assignment_id=columns.assignment_id,
        commune_edition=columns.commune.edition, commune_code=columns.commune.code,
        occurred_on=columns.occurred_on, category=columns.category,
        value_vnd=columns.value_vnd, voided=voided, facts=facts,
    )  # fmt: skip


RECORDED = ACTIVITY + "recorded.v1"
_RECORDED_DATA = msgspec.json.Decoder(checker(RECORDED))


def read_recording(record: Any) -> Delivery[Version] | None:
    """A recording read straight from its Kafka record into its version, for a rebuild's
    millions: the attributes and the data checked against the same contract (msgspec
    structures), without building an `Envelope` (about 45 µs an event against 15).
    None for any other event, or anything it doubts: the consumer's full reading decides."""
    attributes = Attributes.read(record.headers)
    if attributes is None or attributes.type != RECORDED:
        return None
    try:
        data = _RECORDED_DATA.decode(record.value)
        time = datetime.fromisoformat(attributes.time)
        facts = record.value.decode()
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError):
        return None
    version = _row(activity_id=attributes.subject, version=int(attributes.streamversion),
                   valid_from=time, event_id=attributes.id, province=attributes.province,
                   columns=data, voided=False, facts=facts)  # fmt: skip
    return Delivery(
        version, attributes.id, RECORDED, time, record.topic, record.partition, record.offset
    )


_FACTS_JSON = msgspec.json.Decoder(float_hook=Decimal)

COMMUNE_PERIOD = ("edition", "code", "year", "quarter")
KEPT: tuple[tuple[Table, tuple[str, ...], str], ...] = (
    (commune_totals, (*COMMUNE_PERIOD, "category"), "value_vnd"),
    (commune_unit_totals, (*COMMUNE_PERIOD, "sponsor_unit_id"), "value_vnd"),
    (commune_quantities, (*COMMUNE_PERIOD, "category", "unit"), "amount"),
    (commune_beneficiaries, (*COMMUNE_PERIOD, "kind", "group"), "count"),
    (province_totals, ("province", "year", "quarter", "category"), "value_vnd"),
)
"""The kept sums: each table, its key and its measure (every row also counts its
activities); the communes' first, the province's last (see `Totals`)."""


class Totals:
    """Changes to the province and commune sums gathered over a batch and written at its
    end, once, in key order: concurrent batches (a rebuild's workers) then take the rows'
    locks in one order, for the shortest time, and never deadlock. The communes first: a
    commune's rows are one partition's, so one worker's; the few province rows are every
    worker's, and their locks are held from their update to the commit."""

    def __init__(self) -> None:
        self._sums: dict[Table, dict[tuple[Any, ...], list[Any]]] = {t: {} for t, *_ in KEPT}

    def add(self, version: Version, sign: int) -> None:
        """Add (+1) or take away (-1) an activity version."""
        day = version.occurred_on
        period = (day.year, (day.month - 1) // 3 + 1)
        category = version.category
        commune = (version.commune_edition, version.commune_code, *period)
        value = sign * version.value_vnd
        _add(self._sums[province_totals], (version.province, *period, category), value, sign)
        _add(self._sums[commune_totals], (*commune, category), value, sign)
        facts = version.facts
        if isinstance(facts, str):
            facts = _FACTS_JSON.decode(facts)
        units = self._sums[commune_unit_totals]
        for share in facts["contributions"]:
            _add(units, (*commune, share["sponsor_unit_id"]), sign * share["value_vnd"], sign)
        quantity = facts.get("quantity")
        if quantity is not None:
            key = (*commune, category, quantity["unit"])
            amount = quantity["amount"]  # text as the contract writes it; a float from JSONB
            amount = Decimal(str(amount) if isinstance(amount, float) else amount)
            _add(self._sums[commune_quantities], key, sign * amount, sign)
        people = self._sums[commune_beneficiaries]
        for group in facts.get("beneficiaries") or ():
            _add(people, (*commune, group["kind"], group["group"]), sign * group["count"], sign)

    async def write(self, conn: AsyncConnection) -> None:
        if not self._sums[province_totals]:
            return
        for table, key, measure in KEPT:
            changed = self._sums[table]
            if changed:
                await _add_up(conn, table, list(key), measure, sorted(changed.items()))
            self._sums[table] = {}


class Uncounted(Totals):
    """No totals kept while a rebuild fills its fresh tables: `count_totals` counts them
    from the versions afterwards, once. Kept batch after batch, the benchmark's million
    events updated its 40,000 commune rows about 800,000 times (a worker's batch touches
    most of its communes' rows), a fifth of each worker's time; counted after, the
    rebuild took 37 s instead of 51 in the same conditions."""

    def add(self, version: Version, sign: int) -> None:
        return None

    async def write(self, conn: AsyncConnection) -> None:
        return None


async def count_totals(engine: AsyncEngine, at_once: int = 2) -> None:
    """The kept sums of a rebuild's empty tables counted from the activity versions
    (`counted_sums`), `at_once` tables at a time, each in its own transaction: nobody reads
    the fresh tables yet, and unpacking a million activities' facts takes one core some
    seconds per table."""
    turns = asyncio.Semaphore(at_once)

    async def count(table: Table, counted: Select[Any]) -> None:
        async with turns, engine.begin() as conn:
            await conn.execute(insert(table).from_select([c.name for c in table.c], counted))

    async with asyncio.TaskGroup() as group:
        for table, counted in counted_sums():
            group.create_task(count(table, counted))


def counted_sums() -> list[tuple[Table, Select[Any]]]:
    """Each kept table's rows counted from the activity versions, as `Totals` keeps them:
    every version not voided gives its rows (a row whose activities were corrected away
    or voided stays, at zero), the versions in force add up into them."""
    a = activity_versions.c
    in_force = a.valid_to.is_(None)
    period = [
        cast(extract("year", a.occurred_on), Integer),
        cast(extract("quarter", a.occurred_on), Integer),
    ]
    commune = [a.commune_edition, a.commune_code, *period]

    def summed(measure: Any) -> list[Any]:
        return [func.coalesce(func.sum(measure).filter(in_force), 0), func.count().filter(in_force)]

    def counted(key: list[Any], measure: Any, *elements: Any) -> Select[Any]:
        rows: Any = activity_versions
        for element in elements:  # each of a version's contributions or groups
            rows = rows.join(element, true())
        return select(*key, *summed(measure)).select_from(rows).where(~a.voided).group_by(*key)

    # Each version's facts unpacked once into typed columns (`jsonb_to_record[set]`):
    # reading them key by key took twice as long for the quantities.
    # A JSON null (no quantity) reads as none: the functions refuse it.
    def typed(function: Any, name: str, *columns: Any) -> Any:
        return function.table_valued(*columns).render_derived(name=name, with_types=True)

    def fact(key: str) -> Any:
        return func.nullif(a.facts[key], literal_column("'null'::jsonb"))

    share = typed(
        func.jsonb_to_recordset(fact("contributions")),
        "share",
        column("sponsor_unit_id", Text),
        column("value_vnd", Numeric),
    )
    quantity = typed(
        func.jsonb_to_record(fact("quantity")),
        "quantity",
        column("amount", Numeric),
        column("unit", Text),
    )
    group = typed(
        func.jsonb_to_recordset(fact("beneficiaries")),
        "people",
        column("kind", Text),
        column("group", Text),
        column("count", BigInteger),
    )
    return [
        (province_totals, counted([a.province, *period, a.category], a.value_vnd)),
        (commune_totals, counted([*commune, a.category], a.value_vnd)),
        (
            commune_unit_totals,
            counted([*commune, share.c.sponsor_unit_id], share.c.value_vnd, share),
        ),
        (
            commune_quantities,
            counted([*commune, a.category, quantity.c.unit], quantity.c.amount, quantity).where(
                quantity.c.unit.is_not(None)
            ),
        ),
        (
            commune_beneficiaries,
            counted([*commune, group.c.kind, group.c["group"]], group.c["count"], group),
        ),
    ]


def _add(sums: dict[Any, list[Any]], key: tuple[Any, ...], value: Any, sign: int) -> None:
    """Add to one row's sums (a rebuild adds millions: no new list unless the row is new)."""
    row = sums.get(key)
    if row is None:
        sums[key] = [value, sign]
    else:
        row[0] += value
        row[1] += sign


async def _add_up(
    conn: AsyncConnection,
    table: Table,
    key: list[str],
    measure: str,
    sums: list[tuple[Any, list[int]]],
) -> None:
    """One upsert of every changed row, its values sent as one array per column: a VALUES
    list takes a parameter per value, and a rebuild's batch of 5,000 events touches more
    than 32,767 / 7 commune rows (PostgreSQL's limit); the statement is also the same
    whatever the number of rows, so it is compiled and prepared once."""
    names = [*key, measure, "activities"]
    columns = zip(*((*k, v, n) for k, (v, n) in sums), strict=True)
    arrays = [
        bindparam(name, list(values), type_=ARRAY(table.c[name].type))
        for name, values in zip(names, columns, strict=True)
    ]
    rows = func.unnest(*arrays).table_valued(*names).render_derived()
    upsert = insert(table).from_select(names, select(*(rows.c[name] for name in names)))
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=key,
            set_={
                measure: table.c[measure] + upsert.excluded[measure],
                "activities": table.c.activities + upsert.excluded.activities,
            },
        )
    )


async def _amended(conn: AsyncConnection, event: Envelope, totals: Totals) -> None:
    """A correction or void: a new version from its time, closing the one before; held
    back while the version before it has not arrived."""
    a = activity_versions.c
    previous = (
        await conn.execute(
            select(activity_versions).where(
                a.activity_id == event.subject,
                a.version == event.streamversion - 1,
                a.valid_to.is_(None),
            )
        )
    ).one_or_none()
    if previous is None:
        await conn.execute(
            insert(pending_activity_events).values(
                event_id=event.id,
                activity_id=event.subject,
                version=event.streamversion,
                envelope=event.model_dump(mode="json"),
            )
        )
        return
    await conn.execute(
        update(activity_versions)
        .where(a.activity_id == event.subject, a.version == previous.version)
        .values(valid_to=event.time)
    )
    voided = event.type == ACTIVITY + "voided.v1"
    facts = previous.facts if voided else event.data  # a void keeps what it voids
    version = _version(event, facts, voided)
    await copy_records(conn, activity_versions.name, [version], COLUMNS)
    if not previous.voided:
        totals.add(Version(*previous), -1)
    if not voided:
        totals.add(version, 1)
    await _apply_pending(conn, str(event.subject), totals)


async def _apply_pending(conn: AsyncConnection, activity_id: str, totals: Totals) -> None:
    waiting = (
        await conn.execute(
            select(pending_activity_events)
            .where(pending_activity_events.c.activity_id == activity_id)
            .order_by(pending_activity_events.c.version)
            .limit(1)
        )
    ).one_or_none()
    if waiting is None:
        return
    await conn.execute(
        delete(pending_activity_events).where(
            pending_activity_events.c.event_id == waiting.event_id
        )
    )
    await _amended(conn, Envelope.model_validate(waiting.envelope), totals)


AMENDMENTS = {ACTIVITY + "corrected.v1", ACTIVITY + "voided.v1"}


async def apply_events(conn: AsyncConnection, events: Sequence[Envelope | Version]) -> None:
    """Apply a batch in order: runs of recordings (envelopes, or versions `read_recording`
    made) go in with one COPY, runs of lineage with two statements; the rest one by one;
    the province totals change once, at the end. Legal bases, villages, classifications
    and locks do not enter the reports."""
    await _apply_all(conn, events, Totals())


async def fill_events(conn: AsyncConnection, events: Sequence[Envelope | Version]) -> None:
    """`apply_events` into a rebuild's fresh tables, without the totals (`Uncounted`)."""
    await _apply_all(conn, events, Uncounted())


async def _apply_all(
    conn: AsyncConnection, events: Sequence[Envelope | Version], totals: Totals
) -> None:
    recorded: list[Version] = []
    lineage: list[Envelope] = []
    for event in events:
        if isinstance(event, tuple):
            recorded.append(event)
            continue
        if event.type == RECORDED:
            recorded.append(_version(event, event.data, False))
            continue
        if event.type == LINEAGE:
            lineage.append(event)
            continue
        applied = event.type in APPLIED
        if not applied and event.type not in AMENDMENTS:
            continue
        await _record_all(conn, recorded, totals)
        await _lineages(conn, lineage)
        recorded, lineage = [], []
        if applied:
            await _apply_one(conn, event)
        else:
            await _amended(conn, event, totals)
    await _record_all(conn, recorded, totals)
    await _lineages(conn, lineage)
    await totals.write(conn)


async def _record_all(conn: AsyncConnection, versions: list[Version], totals: Totals) -> None:
    if not versions:
        return
    await copy_records(conn, activity_versions.name, versions, COLUMNS)
    for version in versions:
        totals.add(version, 1)
    pending = pending_activity_events.c
    if not await conn.scalar(select(exists().where(pending.activity_id.is_not(None)))):
        return  # nothing waits for an earlier version: the usual case, and a rebuild's
    ids = bindparam("ids", [version.activity_id for version in versions], type_=ARRAY(Text))
    waiting = await conn.execute(
        select(pending.activity_id).distinct().where(pending.activity_id == any_(ids))
    )
    for activity_id in waiting.scalars().all():
        await _apply_pending(conn, activity_id, totals)
