"""The PostgreSQL event store: append with an expected version, load a stream.

An append writes the event rows and their outbox rows in the caller's transaction, so
the command's own writes, its events and their publication stand or fall together.
"""

import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import msgspec
from asyncpg import UniqueViolationError
from sqlalchemy import RowMapping, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import consistency
from shared.auth import Actor
from shared.contract import Data, Event, parse, to_json
from shared.db import copy_records
from shared.envelope import Envelope, actor_attributes
from shared.tables import events, outbox

OUTBOX_CHANNEL = func.concat("outbox:", func.current_schema())
"""The channel a commit with outbox rows notifies (`pg_notify`), one per service schema;
the outbox relay listens on it."""


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first; the caller's view is stale."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None):
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        actual = "unknown" if actual_version is None else str(actual_version)
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, "
            f"the write expected version {expected_version}"
        )


@dataclass(frozen=True)
class NewEvent:
    """An event a command decided on, before it is stored."""

    type: str
    data: dict[str, Any]
    province: str
    partition_key: str
    correlation_id: UUID
    event_id: UUID = field(default_factory=uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    actor: Actor | None = None  # who made the change; None for the system's own loaders
    decided: Data | None = field(default=None, repr=False, compare=False)
    """The model `data` was written from, when a command decided it (see `StoredEvent`)."""


@dataclass(frozen=True)
class StoredEvent:
    position: int
    event_id: UUID
    stream_id: str
    version: int
    type: str
    province: str
    partition_key: str
    data: dict[str, Any]
    correlation_id: UUID
    occurred_at: datetime
    actor: Actor | None = None
    decided: Data | None = field(default=None, repr=False, compare=False)

    @cached_property
    def payload(self) -> Data:
        """The data as its contract model: the one the command decided, when this process
        stored it (an import's projection reads its thousands without parsing them back),
        else read from the stored JSON."""
        return self.decided if self.decided is not None else parse(self.type, self.data)

    @classmethod
    def from_row(cls, row: RowMapping) -> "StoredEvent":
        """From a row's mapping that selected `STORED_COLUMNS` (and possibly more)."""
        fields = {column.name: row[column.name] for column in STORED_COLUMNS}
        actor = fields.pop("actor")
        return cls(**fields, actor=Actor.from_dict(actor) if actor else None)

    def to_envelope(self, source: str) -> Envelope:
        return Envelope(
            id=self.event_id,
            source=source,
            type=self.type,
            time=self.occurred_at,
            subject=self.stream_id,
            province=self.province,
            partitionkey=self.partition_key,
            correlationid=self.correlation_id,
            streamversion=self.version,
            data=self.data,
            **(actor_attributes(self.actor) if self.actor else {}),
        )


def new_ids(count: int) -> list[UUID]:
    """`count` random (version 4) UUIDs from one read of the system's randomness. `uuid4`
    reads it once per id, and each read lets go of the GIL: with an import's reading
    thread running, getting it back cost more than the rest of recording an event."""
    randomness = os.urandom(16 * count)
    return [UUID(bytes=randomness[at : at + 16], version=4) for at in range(0, 16 * count, 16)]


STORED_COLUMNS = (
    events.c.position,
    events.c.event_id,
    events.c.stream_id,
    events.c.version,
    events.c.type,
    events.c.province,
    events.c.partition_key,
    events.c.data,
    events.c.correlation_id,
    events.c.occurred_at,
    events.c.actor,
)


async def stream_version(conn: AsyncConnection, stream_id: str) -> int:
    """The stream's current version; 0 for a stream with no events."""
    found = await conn.scalar(
        select(func.coalesce(func.max(events.c.version), 0)).where(events.c.stream_id == stream_id)
    )
    return int(found or 0)


def check_expected(stream_id: str, current: int, expected: int | None) -> int:
    """The version to append after: `current`, unless the caller read another (If-Match)."""
    if expected is not None and expected != current:
        raise ConcurrencyConflict(stream_id, expected, current)
    return current


async def append(
    conn: AsyncConnection,
    stream_id: str,
    expected_version: int,
    new_events: Sequence[NewEvent],
    *,
    topic: str,
) -> list[StoredEvent]:
    """Append `new_events` after `expected_version` and mark them for publication on `topic`.

    Raises `ConcurrencyConflict` when the stream is not at `expected_version`; the caller's
    transaction is then unusable and must be rolled back, so nothing is half-written.
    """
    return await append_many(conn, [(stream_id, expected_version, new_events)], topic=topic)


async def append_many(
    conn: AsyncConnection,
    streams: Sequence[tuple[str, int, Sequence[NewEvent]]],
    *,
    topic: str,
) -> list[StoredEvent]:
    """`append` for many streams at once (an import): one version check, one insert of the
    events and one of their outbox rows, all or nothing. Returns them in position order."""
    wanted = {stream_id: expected for stream_id, expected, new in streams if new}
    if not wanted:
        return []
    if any(wanted.values()):  # new streams need no look: the unique key guards them
        found = await conn.execute(
            select(events.c.stream_id, func.max(events.c.version))
            .where(events.c.stream_id.in_(wanted))
            .group_by(events.c.stream_id)
        )
        current = dict.fromkeys(wanted, 0) | {stream: version for stream, version in found}
        for stream_id, expected in wanted.items():
            if current[stream_id] != expected:
                raise ConcurrencyConflict(stream_id, expected, current[stream_id])
    if sum(len(new) for _stream, _expected, new in streams) >= COPY_AT_LEAST:
        stored = await _copy(conn, streams, topic)
    else:
        stored = await _insert(conn, streams, topic)
    # delivered at commit (once per transaction): the relay wakes instead of polling
    await conn.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
    return stored


COPY_AT_LEAST = 100
"""From this many events (an import's chunk) `append_many` writes with COPY: a row costs
the database and the driver a fraction of an INSERT's parameters and RETURNING."""


async def _insert(
    conn: AsyncConnection, streams: Sequence[tuple[str, int, Sequence[NewEvent]]], topic: str
) -> list[StoredEvent]:
    rows = [
        {
            "event_id": event.event_id,
            "stream_id": stream_id,
            "version": expected + offset,
            "type": event.type,
            "province": event.province,
            "partition_key": event.partition_key,
            "data": event.data,
            "correlation_id": event.correlation_id,
            "occurred_at": event.occurred_at,
            "actor": event.actor.as_dict() if event.actor else None,
        }
        for stream_id, expected, new in streams
        for offset, event in enumerate(new, start=1)
    ]
    result = await conn.execute(
        pg_insert(events)
        .on_conflict_do_nothing(constraint="events_stream_version_key")
        .returning(*STORED_COLUMNS),
        rows,
    )
    decided = {
        event.event_id: event.decided for _stream, _expected, new in streams for event in new
    }
    read = (StoredEvent.from_row(row._mapping) for row in result)
    stored = sorted(
        (replace(event, decided=decided[event.event_id]) for event in read),
        key=lambda e: e.position,
    )
    if len(stored) < len(rows):
        await _raise_conflict(conn, streams, stored)
    await conn.execute(insert(outbox), [{"position": e.position, "topic": topic} for e in stored])
    return stored


async def _copy(
    conn: AsyncConnection, streams: Sequence[tuple[str, int, Sequence[NewEvent]]], topic: str
) -> list[StoredEvent]:
    """The events and their outbox rows written with COPY, positions drawn first from the
    events' sequence (in order: a stream's versions get rising positions). A version
    another writer holds fails the COPY: `ConcurrencyConflict`, the transaction unusable."""
    count = sum(len(new) for _stream, _expected, new in streams)
    sequence = func.pg_get_serial_sequence("events", "position")
    drawn = await conn.scalars(
        select(func.nextval(sequence)).select_from(func.generate_series(1, count))
    )
    positions = iter(sorted(drawn))
    stored = [
        StoredEvent(next(positions), event.event_id, stream_id, expected + offset, event.type,
                    event.province, event.partition_key, event.data, event.correlation_id,
                    event.occurred_at, event.actor, event.decided)
        for stream_id, expected, new in streams
        for offset, event in enumerate(new, start=1)
    ]  # fmt: skip
    records = [
        (e.position, e.event_id, e.stream_id, e.version, e.type, e.province, e.partition_key,
         _JSON.encode(e.data).decode(), e.correlation_id, e.occurred_at,
         _JSON.encode(e.actor.as_dict()).decode() if e.actor else None)
        for e in stored
    ]  # fmt: skip
    try:
        await copy_records(conn, events.name, records, [c.name for c in STORED_COLUMNS])
    except UniqueViolationError as taken:
        held = _HELD.search(taken.detail or "")
        if held is None:
            raise
        wanted = {stream_id: expected for stream_id, expected, _new in streams}
        raise ConcurrencyConflict(held["stream"], wanted.get(held["stream"], 0), None) from taken
    await copy_records(
        conn, outbox.name, [(e.position, topic) for e in stored], ["position", "topic"]
    )
    return stored


_JSON = msgspec.json.Encoder()
_HELD = re.compile(r"^Key \(stream_id, version\)=\((?P<stream>.*), \d+\) already exists")


async def _raise_conflict(
    conn: AsyncConnection,
    streams: Sequence[tuple[str, int, Sequence[NewEvent]]],
    stored: list[StoredEvent],
) -> None:
    """Another writer holds a version we wanted: name the stream and its version without
    our own rows (the caller rolls the transaction back, so nothing of ours stays)."""
    ours = {event.event_id for event in stored}
    written = {event.stream_id for event in stored}
    for stream_id, expected, new in streams:
        if new and (
            stream_id not in written or sum(e.stream_id == stream_id for e in stored) < len(new)
        ):
            actual = await conn.scalar(
                select(func.coalesce(func.max(events.c.version), 0)).where(
                    events.c.stream_id == stream_id, events.c.event_id.not_in(ours)
                )
            )
            raise ConcurrencyConflict(stream_id, expected, int(actual or 0))
    raise AssertionError("fewer events stored than appended, yet no stream conflicts")


class Decided(NamedTuple):
    """A stream's events a command decided on, each with its Kafka key, to append after
    `expected`."""

    stream_id: str
    expected: int
    events: Sequence[tuple[Event, str]]
    province: str


Projector = Callable[[AsyncConnection, Sequence[StoredEvent]], Awaitable[None]]
"""Brings a service's read models up to date with events just stored, in order."""


@dataclass(frozen=True)
class Recorder:
    """Where a command's events go: its transaction, the service's topic, the correlation
    id of the request that caused them, the projection that keeps the service's read
    models in step in the same transaction, and who asked for the change (signed into
    every event it records)."""

    conn: AsyncConnection
    topic: str
    correlation_id: UUID
    project: Projector
    actor: Actor | None = None

    async def record(
        self,
        stream_id: str,
        expected_version: int,
        decided: Sequence[Event],
        *,
        province: str,
        partition_key: str,
    ) -> list[StoredEvent]:
        return await self.record_many(
            [(stream_id, expected_version, decided)], province=province, partition_key=partition_key
        )

    async def record_many(
        self,
        streams: Sequence[tuple[str, int, Sequence[Event]]],
        *,
        province: str,
        partition_key: str | Callable[[Event], str],
    ) -> list[StoredEvent]:
        def key(event: Event) -> str:
            return partition_key if isinstance(partition_key, str) else partition_key(event)

        return await self.record_decided(
            [
                Decided(stream_id, expected, [(event, key(event)) for event in decided], province)
                for stream_id, expected, decided in streams
            ]
        )

    async def record_decided(self, streams: Sequence[Decided]) -> list[StoredEvent]:
        """Streams of any provinces and keys at once: one `append_many` (COPY for many)."""
        ids = iter(new_ids(sum(len(stream.events) for stream in streams)))
        new = [
            (
                stream.stream_id,
                stream.expected,
                [
                    NewEvent(
                        event_id=next(ids),
                        type=event.type,
                        data=to_json(event.data) if event.json is None else event.json,
                        decided=event.data,
                        province=stream.province,
                        partition_key=key,
                        correlation_id=self.correlation_id,
                        actor=self.actor,
                    )
                    for event, key in stream.events
                ],
            )
            for stream in streams
        ]
        stored = await append_many(self.conn, new, topic=self.topic)
        await self.project(self.conn, stored)
        for event in stored:
            consistency.note(self.topic, event.partition_key, event.event_id)
        return stored


async def load_stream(conn: AsyncConnection, stream_id: str) -> list[StoredEvent]:
    result = await conn.execute(
        select(*STORED_COLUMNS).where(events.c.stream_id == stream_id).order_by(events.c.version)
    )
    return [StoredEvent.from_row(row._mapping) for row in result]
