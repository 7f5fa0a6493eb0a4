"""The idempotent consumer: projection writes and the consumer's progress in one transaction.

`subscribe` wires it to a topic. A message it cannot use (not a CloudEvent, an event type
it does not know, data failing validation, a header or body that does not decode) goes to
the dead-letter topic with the reason and its original bytes, is counted, and does not
stop the others. So does an event the projection refuses every time it is applied (a value
past a column's range, a constraint it breaks): when a batch fails with such an error,
its events are applied one at a time, each tried `ATTEMPTS` times, and the ones that still
fail are dead-lettered; the others, later events of the same key included, are applied.
An event that depends on a dead-lettered one waits as such an event always waits for
what comes before it (the reporting projection keeps a correction whose recording it has
not applied in `pending_activity_events`); once the dead letter is fixed and published
again, the waiting one follows. The projection never holds half an event. A failure that
time may cure (the database away, a deadlock) is never a reason to dead-letter: the
batch is delivered again after a growing pause, and the stall shows in
`ketnghia_pipeline_stalled` and in `/readyz`.

For each batch the consumer claims the event ids it has not processed yet
(`processed_events`), applies only those, and moves its offsets forward
(`consumer_positions`), all in one database transaction. A redelivered event, whether
in the same batch, a later batch or after a restart, finds its id claimed and changes
nothing; a failure rolls the whole batch back, and Kafka delivers it again.
"""

import asyncio
import base64
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import asyncpg
import structlog
from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, Topic
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import ARRAY, ColumnElement, Uuid, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DataError as SqlDataError
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from structlog.contextvars import bound_contextvars

from shared.db import copy_records
from shared.envelope import Envelope, InvalidEnvelope
from shared.health import STALLS, Stall
from shared.metrics import (
    CONSUMER_APPLIED,
    CONSUMER_DUPLICATES,
    DEAD_LETTERS,
    PROJECTION_LAG_EVENTS,
    PROJECTION_LAG_SECONDS,
)
from shared.tables import consumer_positions, processed_events

log = structlog.get_logger(__name__)
E = TypeVar("E")
Projector = Callable[[AsyncConnection, Sequence[E]], Awaitable[None]]
"""Applies a batch's new events, in their order, in the consumer's transaction."""
Validator = Callable[[Envelope], None]
"""Raises `Poison` for an event the consumer cannot apply (unknown type, bad data)."""


class Poison(ValueError):
    """A message no retry will make usable; it goes to the dead-letter topic."""


@dataclass(frozen=True, slots=True)
class Delivery(Generic[E]):
    """A consumed event as the consumer read it (an `Envelope`, or what a faster reader
    took from the record: a rebuild's millions of recordings), and where in Kafka."""

    event: E
    id: UUID
    type: str
    time: datetime
    topic: str
    partition: int
    offset: int

    @staticmethod
    def of(envelope: Envelope, topic: str, partition: int, offset: int) -> "Delivery[Envelope]":
        e = envelope
        return Delivery(e, e.id, e.type, e.time, topic, partition, offset)

    @staticmethod
    def from_record(record: Any) -> "Delivery[Envelope]":
        """From an aiokafka `ConsumerRecord`; raises `InvalidEnvelope` for a foreign message."""
        envelope = Envelope.from_kafka(record.headers, record.key, record.value)
        return Delivery.of(envelope, record.topic, record.partition, record.offset)


FastReader = Callable[[Any], Delivery[Any] | None]
"""Reads the records it knows in a cheaper way; None leaves a record to `Delivery.from_record`
and the validator. What it accepts, they must accept, with the same meaning."""


def projection_lock(schema: str | None = None) -> ColumnElement[int]:
    """The key of the lock on a schema's projections (the connection's own schema when
    `schema` is None). Every apply holds it shared; a rebuild holds it exclusively, naming
    the live schema, while it switches schemas, so that no batch lands in the projections
    being replaced. One builder for both: were the two keys to differ, the switch would
    stop blocking live batches and nothing would say so."""
    named = func.current_schema() if schema is None else literal(schema)
    key: ColumnElement[int] = func.hashtext(func.concat("projection:", named))
    return key


PROJECTION_LOCK = projection_lock()


def event_context(event: Any) -> dict[str, str]:
    """What every log line about a consumed event carries (`shared.logs`): its correlation
    id and province, when the event as read has them (an `Envelope` does)."""
    found = {}
    if (correlation := getattr(event, "correlationid", None)) is not None:
        found["correlation_id"] = str(correlation)
    if (province := getattr(event, "province", None)) is not None:
        found["province"] = str(province)
    return found


_CONTEXT_HEADERS = {"ce_correlationid": "correlation_id", "ce_province": "province"}


def record_context(record: Any) -> dict[str, str]:
    """The same from a record's headers as they came: a message that is no CloudEvent may
    still name them (a header that does not decode is left out; a long one is cut)."""
    found = {}
    for key, value in record.headers or ():
        if key in _CONTEXT_HEADERS:
            with contextlib.suppress(UnicodeDecodeError):
                found[_CONTEXT_HEADERS[key]] = value.decode()[:100]
    return found


def each(handle: Callable[[AsyncConnection, Envelope], Awaitable[None]]) -> Projector[Envelope]:
    """A projector that applies events one at a time with `handle`."""

    async def project(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
        for event in events:
            await handle(conn, event)

    return project


class IdempotentConsumer:
    def __init__(
        self, engine: AsyncEngine, name: str, *, log_events: bool = True, fresh: bool = False
    ) -> None:
        """`log_events`: one JSON line per applied event (off for a rebuild's millions).
        `fresh`: the consumer's records start empty and only this object writes them (a
        rebuild's worker, whose partitions no one else reads): what it claimed is kept in
        memory, and the claims are written with COPY, about twice as cheap."""
        self._engine = engine
        self.name = name
        self._log_events = log_events
        self._claimed: set[UUID] | None = set() if fresh else None

    async def apply(self, deliveries: Sequence[Delivery[E]], project: Projector[E]) -> int:
        """Apply the batch's new events with `project`; returns how many were new."""
        if not deliveries:
            return 0
        async with self._engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock_shared(PROJECTION_LOCK)))
            unclaimed = await self._claim(conn, [d.id for d in deliveries])
            new = []
            for delivery in deliveries:
                if delivery.id in unclaimed:
                    unclaimed.discard(delivery.id)  # twice in one batch: once
                    new.append(delivery)
            if new:
                await project(conn, [delivery.event for delivery in new])
            await self._advance(conn, deliveries)
        if self._claimed is not None:
            self._claimed.update(delivery.id for delivery in new)  # committed
        for event_type, count in Counter(delivery.type for delivery in new).items():
            CONSUMER_APPLIED.labels(self.name, event_type).inc(count)
        if self._log_events:
            for delivery in new:
                with bound_contextvars(**event_context(delivery.event)):
                    log.info(
                        "event applied",
                        consumer=self.name,
                        event_id=str(delivery.id),
                        type=delivery.type,
                    )
        CONSUMER_DUPLICATES.labels(self.name).inc(len(deliveries) - len(new))
        return len(new)

    async def _claim(self, conn: AsyncConnection, event_ids: list[UUID]) -> set[UUID]:
        if self._claimed is not None:
            unclaimed = set(event_ids) - self._claimed
            claims = [(self.name, event_id) for event_id in unclaimed]
            await copy_records(conn, processed_events.name, claims, ["consumer", "event_id"])
            return unclaimed
        # One statement whatever the batch size: the ids go as one array parameter, sorted,
        # so that two consumers claiming the same events (a rebalance) wait, not deadlock.
        ids = func.unnest(bindparam("ids", sorted(set(event_ids)), type_=ARRAY(Uuid)))
        claimed = await conn.execute(
            pg_insert(processed_events)
            .from_select(["consumer", "event_id"], select(literal(self.name), ids))
            .on_conflict_do_nothing()
            .returning(processed_events.c.event_id)
        )
        return set(claimed.scalars())

    async def _advance(self, conn: AsyncConnection, deliveries: Sequence[Delivery[Any]]) -> None:
        latest: dict[tuple[str, int], Delivery[Any]] = {}
        for delivery in deliveries:
            place = (delivery.topic, delivery.partition)
            if place not in latest or latest[place].offset < delivery.offset:
                latest[place] = delivery
        now = datetime.now(UTC)
        upsert = pg_insert(consumer_positions).values(
            [
                {
                    "consumer": self.name,
                    "topic": topic,
                    "partition": partition,
                    "next_offset": delivery.offset + 1,
                    "event_time": delivery.time,
                    "updated_at": now,
                }
                for (topic, partition), delivery in latest.items()
            ]
        )
        await conn.execute(
            upsert.on_conflict_do_update(
                index_elements=[
                    consumer_positions.c.consumer,
                    consumer_positions.c.topic,
                    consumer_positions.c.partition,
                ],
                set_={
                    "next_offset": func.greatest(
                        consumer_positions.c.next_offset, upsert.excluded.next_offset
                    ),
                    "event_time": upsert.excluded.event_time,
                    "updated_at": now,
                },
            )
        )


def sort_out(
    records: Sequence[Any], validate: Validator | None, fast: FastReader | None = None
) -> tuple[list[Delivery[Any]], list[tuple[Any, Exception]]]:
    """The records a consumer can apply, and the poison among them with the reason."""
    usable: list[Delivery[Any]] = []
    poisoned: list[tuple[Any, Exception]] = []
    for record in records:
        delivery = fast(record) if fast is not None else None
        if delivery is not None:
            usable.append(delivery)
            continue
        try:
            read = Delivery.from_record(record)
            if validate is not None:
                validate(read.event)
            usable.append(read)
        except (InvalidEnvelope, Poison) as poison:
            poisoned.append((record, poison))
    return usable, poisoned


ATTEMPTS = 3
"""How many times an event the projection refuses is tried on its own before it is
dead-lettered."""
TRANSIENT_SQLSTATES = ("08", "40", "53", "55P03", "57")
"""Connection, transaction rollback (deadlock, serialization), resources, lock not
available, operator intervention (a server shutting down): time may cure them."""


def transient(error: BaseException) -> bool:
    """Whether retrying later may succeed (the database or the network away, a conflict),
    as opposed to an event the projection refuses whatever the moment (a value out of a
    column's range, a broken constraint, data the code cannot read). Errors come wrapped
    by SQLAlchemy, or straight from asyncpg (the projection's COPY)."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if state:
            return str(state).startswith(TRANSIENT_SQLSTATES)
        return not isinstance(error, SqlDataError | IntegrityError | ProgrammingError)
    if isinstance(error, asyncpg.PostgresError):
        return str(error.sqlstate or "").startswith(TRANSIENT_SQLSTATES)
    if isinstance(error, asyncpg.exceptions.DataError):  # a value it cannot send: the event's
        return False
    return isinstance(
        error,
        asyncpg.InterfaceError  # the connection closed under it, an operation in progress
        | PoolTimeout
        | DisconnectionError
        | OSError
        | TimeoutError
        | ConnectionError,
    )


async def apply_or_isolate(
    consumer: IdempotentConsumer,
    deliveries: Sequence[Delivery[E]],
    project: Projector[E],
    dead_letter: Callable[[Delivery[E], BaseException], Awaitable[None]],
) -> int:
    """Apply the batch; if the projection refuses it for a reason time will not cure, apply
    its events one at a time, each at most `ATTEMPTS` times, and hand the ones that still
    fail to `dead_letter`. A transient failure is raised (the batch comes again)."""
    try:
        return await consumer.apply(deliveries, project)
    except Exception as error:
        if transient(error) or len(deliveries) == 0:
            raise
    applied = 0
    for delivery in deliveries:
        with bound_contextvars(**event_context(delivery.event)):
            applied += await _apply_alone(consumer, delivery, project, dead_letter)
    return applied


async def _apply_alone(
    consumer: IdempotentConsumer,
    delivery: Delivery[E],
    project: Projector[E],
    dead_letter: Callable[[Delivery[E], BaseException], Awaitable[None]],
) -> int:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await consumer.apply([delivery], project)
        except Exception as error:
            if transient(error):
                raise
            if attempt < ATTEMPTS:
                await asyncio.sleep(0.2 * attempt)
                continue
            await dead_letter(delivery, error)
    # claimed as seen, applying nothing: the batch delivered again (a later event's
    # transient failure) does not dead-letter it twice
    await consumer.apply([delivery], _nothing)
    return 0


async def _nothing(_conn: AsyncConnection, _events: Sequence[Any]) -> None:
    return None


BATCH_WAIT_MS = 25


def subscribe(
    kafka: KafkaBroker,
    engine: AsyncEngine,
    *,
    topic: str,
    name: str,
    project: Projector[Envelope],
    validate: Validator | None = None,
    dead_letters: str | None = None,
    max_records: int = 500,
) -> None:
    """Apply `topic`'s events to the service's projection with `project`, in batches, from
    the topic's beginning, as consumer group `name`. Kafka offsets are committed after the
    batch's transaction; a failed batch is delivered again (and finds nothing applied).
    Poison messages go to `dead_letters` (when given) and are skipped."""
    consumer = IdempotentConsumer(engine, name)
    stall = STALLS.setdefault(name, Stall(name))

    @kafka.subscriber(
        # The operator makes the topics (the consumers' users may not create them).
        Topic(topic, declare=False),
        group_id=name,
        batch=True,
        max_records=max_records,
        # faststream waits this long for records, and as long again when none came:
        # its default of 200 ms made an idle consumer up to 400 ms late to a new event
        batch_timeout_ms=BATCH_WAIT_MS,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        include_in_schema=True,
        parser=_records_as_they_are,
        decoder=_not_decoded,
    )
    async def handle(body: list[Any], message: KafkaMessage) -> None:
        batch: tuple[Any, ...] = message.raw_message  # a tuple: `_records_as_they_are`
        usable, poisoned = sort_out(batch, validate)
        read_from = {(r.topic, r.partition, r.offset): r for r in batch}

        async def refused(delivery: Delivery[Envelope], reason: BaseException) -> None:
            record = read_from[(delivery.topic, delivery.partition, delivery.offset)]
            await _dead_letter(kafka, dead_letters, name, record, reason, "projection_failed")

        try:
            await apply_or_isolate(consumer, usable, project, refused)
        except Exception as error:
            pause = stall.failed()
            log.warning(
                "batch failed, will retry", consumer=name, error=repr(error)[:500],
                pause_seconds=pause, failing_for_seconds=round(stall.seconds(), 1),
            )  # fmt: skip
            await asyncio.sleep(pause)
            raise
        stall.passed()
        # after the batch is applied: a batch delivered again does not send them twice
        for record, poison in poisoned:
            await _dead_letter(kafka, dead_letters, name, record, poison)
        _observe_lag(name, message.consumer, batch)


async def _records_as_they_are(records: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """faststream's own reading decodes every header as UTF-8 and every body as JSON before
    the handler runs; a message that fails it never reaches the handler, and the framework
    retries it hundreds of times a second. It reads copies without headers or bodies
    instead; the handler reads the records themselves (`sort_out`)."""
    # aiokafka hands a batch subscriber a tuple; faststream's in-memory broker
    # (`TestKafkaBroker`, the handler tests) a list
    batch = tuple(records) if isinstance(records, list | tuple) else (records,)
    message = await original(tuple(replace(r, headers=[], value=b"") for r in batch))
    message.raw_message = batch
    return message


async def _not_decoded(message: Any) -> list[Any]:
    """An empty body for the handler's argument: it reads the raw records."""
    return []


async def _dead_letter(
    kafka: KafkaBroker,
    topic: str | None,
    consumer: str,
    record: Any,
    reason: BaseException,
    kind: str | None = None,
) -> None:
    kind = kind or ("not_cloudevent" if isinstance(reason, InvalidEnvelope) else "rejected")
    DEAD_LETTERS.labels(consumer, kind).inc()
    with bound_contextvars(**record_context(record)):
        log.warning(
            "dead letter",
            consumer=consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=str(reason),
        )
    if topic is None:
        return
    headers: dict[str, str] = {}
    for key, value in record.headers:  # as they came; one that is not UTF-8 in base64
        try:
            headers[key] = value.decode()
        except UnicodeDecodeError:
            headers[f"dlq_b64_{key}"] = base64.b64encode(value).decode()
    headers |= {
        "dlq_reason": f"{type(reason).__name__}: {reason}"[:1000],
        "dlq_kind": kind,
        "dlq_consumer": consumer,
        "dlq_origin": f"{record.topic}/{record.partition}/{record.offset}",
    }
    await kafka.publish(record.value or b"", topic, key=record.key, headers=headers)


def _observe_lag(name: str, kafka_consumer: Any, batch: Sequence[Any]) -> None:
    newest = max(record.timestamp for record in batch) / 1000
    PROJECTION_LAG_SECONDS.labels(name).set(max(0.0, datetime.now(UTC).timestamp() - newest))
    behind = 0
    highwater = getattr(kafka_consumer, "highwater", None)  # none in `TestKafkaBroker`'s fake
    for place, last in {(r.topic, r.partition): r.offset for r in batch}.items():
        end = highwater(TopicPartition(*place)) if highwater else None
        if end is not None:
            behind += max(0, end - last - 1)
    PROJECTION_LAG_EVENTS.labels(name).set(behind)
