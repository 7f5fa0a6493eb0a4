"""The transactional outbox relay: publishes stored events to Kafka, in order, none lost.

Commands write their events and the outbox rows in one transaction (`eventstore.append`).
The relay reads the oldest outbox rows, publishes them, waits for every acknowledgement
and only then deletes those rows and records how far it got, all in one transaction.
If the broker is down the transaction rolls back, the rows stay, and the relay retries
with a growing pause: a broker outage delays events, it never loses them. While a batch's
acknowledgements are awaited, the next batch is read and sent (`drain`), so the database
and Kafka work at the same time.

A retried batch may publish an event twice; consumers are idempotent by event id.
Order per key holds: rows are read in position order, and the producer is idempotent
with one request in flight per partition, so a failed send fails the sends behind it.
One relay of a service publishes at a time (`RelaySession`, a lock in PostgreSQL): the
service's other replicas wait and take over when it goes.

An event Kafka refuses for good (larger than a message may be, an invalid record) would
hold back every event behind it for ever: the relay moves it to `outbox_parked` with the
reason, counts it (`outbox_parked`), logs an error, and goes on; `/readyz` says degraded
while any is parked, and an operator decides (see deploy/README.md). The APIs' bounds
are there so that none gets that far. While the relay fails, its gauges are refreshed
anyway, and `/readyz` says degraded once it has failed for `STUCK_SECONDS`.

The relay owns its producer. After a failed batch it drops it and connects a new one:
aiokafka's client may never refresh its metadata after the broker restarts
(aio-libs/aiokafka#267, seen here as a busy loop), and a new producer bootstraps again.
"""

import asyncio
import contextlib
import json
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from shared.auth import Actor
from shared.envelope import KafkaRecord, actor_headers
from shared.eventstore import OUTBOX_CHANNEL
from shared.health import STALLS, Stall
from shared.kafka_security import KafkaAccess
from shared.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PARKED,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
)
from shared.tables import events, outbox, outbox_parked, outbox_relay_state

log = structlog.get_logger(__name__)

ProducerFactory = Callable[[], AIOKafkaProducer]
# Counting the outbox costs a scan of it: while a backlog drains, refresh the gauges
# at most this often rather than after every batch.
BACKLOG_OBSERVE_SECONDS = 1.0
SWEEP_SECONDS = 1.0  # see `OutboxRelay.drain`
ALONE_BYTES = 256 * 1024  # an event larger is sent on its own (`OutboxRelay._send_next`)
PARTITIONER = DefaultPartitioner()
REFUSED_FOR_GOOD = (
    MessageSizeTooLargeError,
    InvalidTimestampError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    InvalidTopicError,
    UnsupportedForMessageFormatError,
)
"""What Kafka answers for a record no retry will make acceptable."""


class Outgoing(NamedTuple):
    """An outbox row with its event, encoded for Kafka."""

    position: int
    topic: str
    record: KafkaRecord

    def describe(self) -> dict[str, str | int]:
        headers = dict(self.record.headers)
        return {
            "topic": self.topic,
            "position": self.position,
            "event_id": headers["ce_id"].decode(),
            "type": headers["ce_type"].decode(),
        }


Parked = list[tuple[Outgoing, BaseException]]

PENDING = """
SELECT o.position, o.topic, convert_to(e.event_id::text, 'UTF8'), convert_to(e.type, 'UTF8'),
       convert_to(to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                  || CASE WHEN date_trunc('second', e.occurred_at) = e.occurred_at THEN 'Z'
                          ELSE to_char(e.occurred_at AT TIME ZONE 'UTC', '.US"Z"') END, 'UTF8'),
       convert_to(e.stream_id, 'UTF8'), convert_to(e.province, 'UTF8'),
       convert_to(e.partition_key, 'UTF8'), convert_to(e.correlation_id::text, 'UTF8'),
       convert_to(e.version::text, 'UTF8'),
       e.actor::text, convert_to(e.data::text, 'UTF8')
  FROM outbox o JOIN events e ON e.position = o.position
 WHERE o.position > $1 AND e.position > $1
 ORDER BY o.position
 LIMIT $2
"""
"""The next batch of the outbox, each event's attributes as the bytes of its headers in
binary content mode and its data as PostgreSQL's JSON text, what `Envelope.to_kafka`
writes (a test holds them equal; times as the CloudEvents SDK writes them, the fraction
only when there is one). PostgreSQL formats them on its own core, and asyncpg reads them
without SQLAlchemy's result rows: 10 µs of the relay's time a row instead of 21 (the
relay's own process is what limits it). Only `actor` needs Python: its attributes are
cut to the contract's lengths (`actor_headers`). The condition on both tables lets the
merge join start both index scans at `$1`, not at the first event ever stored."""
SPECVERSION = ("ce_specversion", b"1.0")
CONTENT_TYPE = ("content-type", b"application/json")


def relay_producer(kafka: KafkaAccess, client_id: str) -> AIOKafkaProducer:
    """The relay's producer: every replica acknowledges, no duplicates on retry, and
    records gathered for a few milliseconds into requests of up to 512 KB.

    aiokafka's own producer, not faststream's publisher: the relay sends tens of thousands
    of records a second, and faststream's publish path (its middlewares, one message
    object each) ran at 13,000/s against aiokafka's 45,000/s here, with the same settings."""
    return AIOKafkaProducer(
        **kafka.aiokafka_options(),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        linger_ms=5,
        max_batch_size=512 * 1024,
    )


@dataclass
class _Flight:
    """A batch sent and not yet settled."""

    batch: list[Outgoing]
    sent: list[tuple[list[Outgoing], "asyncio.Future[Any]"]]  # a record batch or one event
    parked: Parked  # refused by the producer's own check before sending
    failed: BaseException | None  # a send that failed before reaching the producer
    started: float = field(default_factory=time.monotonic)


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        new_producer: ProducerFactory,
        *,
        source: str,
        name: str = "outbox",
        batch_size: int = 2_000,
        in_flight: int = 2,
        poll_seconds: float = 0.2,
        publish_timeout_seconds: float = 30.0,
        listen: bool = True,
    ) -> None:
        self._engine = engine
        self._new_producer = new_producer
        self._producer: AIOKafkaProducer | None = None
        self._source = source
        self._name = name
        self._batch_size = batch_size
        self._in_flight = in_flight
        self._poll_seconds = poll_seconds
        self._publish_timeout = publish_timeout_seconds
        self._listen = listen
        self._observed_at = 0.0  # monotonic time the backlog gauges were last refreshed
        self._actors: dict[str, list[tuple[str, bytes]]] = {}
        self._partitions: dict[str, list[int]] = {}  # by topic, read once per producer
        self._keys: dict[str, dict[bytes, int]] = {}  # by topic: each key's partition
        self._alone: set[int] = set()  # positions of a record batch Kafka refused
        pipeline = f"outbox:{source}"  # one per service, even in one process (the tests)
        self.stall = STALLS.setdefault(pipeline, Stall(pipeline))

    async def publish_batch(self) -> int:
        """Publish the oldest pending events (at most one batch) and settle them; returns
        how many left the outbox (published or parked). See `drain`."""
        return await self.drain(batches=1)

    async def drain(self, batches: int | None = None) -> int:
        """Publish pending events, batch after batch until the outbox is empty (or
        `batches` were sent); returns how many left the outbox (published or parked).

        While one batch's acknowledgements are awaited the next is read (the rows after
        the last one sent) and sent, up to `in_flight` batches. Batches are settled in
        the order they were sent, each by its own answers: acknowledged events leave the
        outbox, refused-for-good ones are parked, and if any other failed, the rest stay,
        the batches behind it are settled the same way, and the failure is raised.

        A transaction that commits after later ones holds lower positions than rows
        already read: whenever nothing is in flight the next read starts from the oldest
        row again, and during a long backlog that happens every `SWEEP_SECONDS`.

        The caller makes sure no other relay of the service drains at the same time
        (`run` holds the service's relay lock): two would interleave a key's events."""
        flights: deque[_Flight] = deque()
        left = 0
        sent_batches = 0
        swept = time.monotonic()
        try:
            while True:
                more = batches is None or sent_batches < batches
                after = flights[-1].batch[-1].position if flights else 0
                earlier = [answer for flown in flights for _, answer in flown.sent]
                flight = await self._send_next(after, earlier) if more else None
                if flight is not None:
                    flights.append(flight)
                    sent_batches += 1
                backlog = more and flight is not None and len(flight.batch) == self._batch_size
                sweep = time.monotonic() - swept >= SWEEP_SECONDS
                while flights and (len(flights) > self._in_flight or not backlog or sweep):
                    left += await self._settle(flights.popleft())
                if sweep:
                    swept = time.monotonic()
                if not backlog:
                    break
        except BaseException:
            await self._settle_after_failure(flights)
            await self.close()  # a new producer next time (its sequence numbers start over)
            raise
        self.stall.passed()
        return left

    async def _send_next(self, after: int, earlier: list["asyncio.Future[Any]"]) -> _Flight | None:
        """Read the next batch after position `after` and send it; None when none is
        pending. Events go in record batches of the producer's size, one per partition
        (`send_batch`: a third less of the relay's time than a `send` each, here); an
        event larger than `ALONE_BYTES` (none the APIs' bounds let through), or one of a
        record batch Kafka refused, goes alone in a batch and is answered before the next
        is sent, so that the producer's size check and Kafka's answer concern it alone
        (`earlier`: the answers of the batches still in flight, which it waits for too)."""
        async with self._engine.connect() as conn:
            batch = await self._pending(conn, after)
            if not batch:
                await self._observe_backlog(conn)
                return None
        producer = await self._connected()
        flight = _Flight(batch, [], [], None)
        open_batches: dict[tuple[str, int], tuple[Any, list[Outgoing]]] = {}

        async def close(place: tuple[str, int]) -> None:
            builder, members = open_batches.pop(place)
            topic, partition = place
            flight.sent.append(
                (members, await producer.send_batch(builder, topic, partition=partition))
            )

        try:
            for outgoing in batch:
                key, value, headers = outgoing.record
                place = (outgoing.topic, await self._partition(producer, outgoing.topic, key))
                if outgoing.position in self._alone or len(value) > ALONE_BYTES:
                    if place in open_batches:  # what is before it on its partition goes first
                        await close(place)
                    # alone in its record batch: what was sent before is answered first, and
                    # nothing is sent after it until it is answered (the producer would put
                    # the next events of its partition in the same batch)
                    before = earlier + [answer for _, answer in flight.sent]
                    if before:
                        await asyncio.wait(before)
                    try:
                        answer = await producer.send(
                            outgoing.topic, value, key, partition=place[1], headers=headers
                        )
                    except REFUSED_FOR_GOOD as refused:  # the producer's own check: too large
                        flight.parked.append((outgoing, refused))
                        continue
                    await asyncio.wait([answer])
                    flight.sent.append(([outgoing], answer))
                    if answer.exception() is not None:  # the producer's sequence is broken:
                        flight.failed = answer.exception()  # the rest with a new one
                        break
                    continue
                if place not in open_batches:
                    open_batches[place] = (producer.create_batch(), [])
                builder, members = open_batches[place]
                if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    await close(place)  # full
                    open_batches[place] = (builder := producer.create_batch(), members := [])
                    again = builder.append(key=key, value=value, timestamp=None, headers=headers)
                    if again is None:  # larger than a batch: next time on its own
                        self._alone.add(outgoing.position)
                        raise RecordTooLargeError(f"event at {outgoing.position} fits no batch")
                members.append(outgoing)
            for place in list(open_batches):
                await close(place)
        except Exception as error:  # what was not sent waits for the next batch
            flight.failed = error
        return flight

    async def _partition(self, producer: AIOKafkaProducer, topic: str, key: bytes) -> int:
        """The partition of `key`, as the producer's own partitioner picks it (murmur2 of
        the key over the topic's partitions): the same for a batch and for `send`."""
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = self._partitions[topic] = sorted(await producer.partitions_for(topic))
            self._keys[topic] = {}
        keys = self._keys[topic]
        found = keys.get(key)
        if found is None:
            if len(keys) >= 100_000:
                keys.clear()
            found = keys[key] = PARTITIONER(key, partitions, partitions)
        return found

    async def _settle(self, flight: _Flight) -> int:
        """Wait for the batch's answers, then delete what was acknowledged or parked in
        one transaction; raise the first other failure once that is committed. A record
        batch Kafka refused for good is sent again one event at a time (the one refused
        is then parked, the others published)."""
        remaining = self._publish_timeout - (time.monotonic() - flight.started)
        answers = await asyncio.wait_for(
            asyncio.gather(*(answer for _, answer in flight.sent), return_exceptions=True),
            max(remaining, 0.001),
        )
        acked: set[int] = set()
        parked, failed = flight.parked, flight.failed
        for (members, _), answer in zip(flight.sent, answers, strict=True):
            if isinstance(answer, REFUSED_FOR_GOOD) and len(members) == 1:
                parked.append((members[0], answer))
            elif isinstance(answer, REFUSED_FOR_GOOD):
                self._alone.update(outgoing.position for outgoing in members)
                failed = failed or answer
            elif isinstance(answer, BaseException):
                failed = failed or answer
            else:
                acked.update(outgoing.position for outgoing in members)
        settled = acked | {outgoing.position for outgoing, _ in parked}
        done = [outgoing for outgoing in flight.batch if outgoing.position in settled]
        self._alone.difference_update(settled)
        async with self._engine.begin() as conn:
            if done:
                await self._mark_published(conn, done, parked)
            caught_up = len(flight.batch) < self._batch_size
            if caught_up or time.monotonic() - self._observed_at >= BACKLOG_OBSERVE_SECONDS:
                await self._observe_backlog(conn)
        _count(done, parked)
        if failed is not None:
            raise failed
        return len(done)

    async def _settle_after_failure(self, flights: deque[_Flight]) -> None:
        """After a failed batch, the ones sent behind it: what Kafka acknowledged leaves
        the outbox (it is on Kafka, whatever else failed), the rest stays."""
        while flights:
            flight = flights.popleft()
            with contextlib.suppress(Exception):
                await self._settle(flight)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set: batches back to back while there is a backlog,
        failures retried with a growing pause until they pass or `stop` is set. Idle, it
        waits for a commit's notification (`LISTEN`), or `poll_seconds` at most: a commit
        whose notification is missed (the listening connection lost) is found by the poll.

        Only the holder of the service's relay lock (a session advisory lock on the
        listening connection) relays; the replicas of a service wait, and one takes over
        when the holder's connection ends."""
        session = RelaySession(self._engine, self._name, self._listen)
        try:
            await self._run(stop, session)
        finally:
            await session.close()

    async def _run(self, stop: asyncio.Event, session: "RelaySession") -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            stop=lambda _state: stop.is_set(),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            while not stop.is_set():
                try:
                    published: int = await retrying(self._turn, session)
                except Exception:
                    if stop.is_set():
                        break  # shutting down while the broker or database is away
                    raise
                if published == 0:
                    await session.wait(stop, self._poll_seconds)
        finally:
            await self.close()

    async def _turn(self, session: "RelaySession") -> int:
        """Drain the outbox if this relay holds the service's relay lock; 0 if another does."""
        if not await session.lead():
            return 0
        return await self.drain()

    async def _connected(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._new_producer()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def close(self) -> None:
        """Disconnect the producer; the next batch connects a new one (and reads the
        topics' partitions again)."""
        self._partitions.clear()
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _pending(self, conn: AsyncConnection, after: int) -> list[Outgoing]:
        """The oldest outbox rows after position `after`, with their events as the bytes
        the producer sends (`PENDING`)."""
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # an asyncpg connection
        rows = await driver.fetch(PENDING, after, self._batch_size)
        source = ("ce_source", self._source.encode())
        batch = []
        for (position, topic, event_id, type_, time_, subject, province, key, correlation,
             version, actor, data) in rows:  # fmt: skip
            headers = [("ce_id", event_id), source, ("ce_type", type_), SPECVERSION,
                       ("ce_time", time_), ("ce_subject", subject), CONTENT_TYPE,
                       ("ce_province", province), ("ce_partitionkey", key),
                       ("ce_correlationid", correlation),
                       ("ce_streamversion", version)]  # fmt: skip
            if actor is not None:
                headers += self._signed(actor)
            batch.append(Outgoing(position, topic, KafkaRecord(key, data, headers)))
        return batch

    def _signed(self, text: str) -> list[tuple[str, bytes]]:
        """The author's headers from the actor column's JSON text, made once per author
        (an import's thousands of events have one)."""
        headers = self._actors.get(text)
        if headers is None:
            if len(self._actors) >= 1_000:
                self._actors.clear()
            found = json.loads(text)
            headers = actor_headers(Actor.from_dict(found)) if found else []
            self._actors[text] = headers
        return headers

    async def _mark_published(
        self, conn: AsyncConnection, batch: list[Outgoing], parked: Parked
    ) -> None:
        positions = [outgoing.position for outgoing in batch]
        if parked:
            await conn.execute(
                pg_insert(outbox_parked).values([
                    {"position": outgoing.position, "topic": outgoing.topic,
                     "reason": f"{type(reason).__name__}: {reason}"[:1000]}
                    for outgoing, reason in parked
                ]).on_conflict_do_nothing()
            )  # fmt: skip
        await conn.execute(delete(outbox).where(outbox.c.position == func.any(positions)))
        now = datetime.now(UTC)
        upsert = pg_insert(outbox_relay_state).values(
            relay=self._name,
            last_position=max(positions),
            published_total=len(batch),
            updated_at=now,
        )
        await conn.execute(
            upsert.on_conflict_do_update(
                index_elements=[outbox_relay_state.c.relay],
                set_={
                    "last_position": func.greatest(
                        outbox_relay_state.c.last_position, upsert.excluded.last_position
                    ),
                    "published_total": outbox_relay_state.c.published_total
                    + upsert.excluded.published_total,
                    "updated_at": now,
                },
            )
        )

    async def _observe_backlog(self, conn: AsyncConnection) -> None:
        self._observed_at = time.monotonic()
        backlog, oldest = (
            await conn.execute(
                select(func.count(), func.min(events.c.recorded_at)).select_from(
                    outbox.join(events, events.c.position == outbox.c.position)
                )
            )
        ).one()
        OUTBOX_BACKLOG.set(backlog)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        OUTBOX_OLDEST_AGE.set(max(age, 0.0))

    async def _log_retry(self, state: object) -> None:
        """After a failure: counted, logged, the stall noted, and the gauges refreshed (in
        a transaction of their own), so that a stuck relay shows as one."""
        OUTBOX_PUBLISH_FAILURES.inc()
        self.stall.failed()
        outcome = getattr(state, "outcome", None)
        error = outcome.exception() if outcome is not None else None
        log.warning("outbox publish failed, will retry", error=repr(error)[:500],
                    failing_for_seconds=round(self.stall.seconds(), 1))  # fmt: skip
        with contextlib.suppress(Exception):  # the database may be what is away
            async with self._engine.connect() as conn:
                await self._observe_backlog(conn)


def _count(done: list[Outgoing], parked: Parked) -> None:
    refused = {outgoing.position for outgoing, _ in parked}
    published = Counter(o.topic for o in done if o.position not in refused)
    for topic, count in published.items():
        OUTBOX_PUBLISHED.labels(topic=topic).inc(count)
    for outgoing, reason in parked:
        OUTBOX_PARKED.labels(topic=outgoing.topic).inc()
        log.error("event parked: Kafka refuses it for good", **outgoing.describe(),
                  reason=repr(reason)[:500])  # fmt: skip


class RelaySession:
    """The relay's own connection. It holds the service's relay lock, a session advisory
    lock, so that one relay of a service publishes at a time however many replicas run
    (two would interleave a key's events), and it `LISTEN`s on the service's outbox
    channel: `wait` returns when a commit notifies, `stop` is set, or `poll_seconds` pass.
    Lost (the database restarted), it is opened again by the next `lead`, and the lock
    taken again if it is free; a replica waiting for the lock takes it then."""

    def __init__(self, engine: AsyncEngine, name: str, listen: bool = True) -> None:
        self._engine = engine
        self._name = name
        self._listen = listen
        self._connection: AsyncConnection | None = None
        self._leading = False
        self._woken = asyncio.Event()

    async def lead(self) -> bool:
        """Whether this relay holds the lock, taking it if it is free; raises when the
        database does not answer."""
        connection = await self._ensure()
        if not self._leading:
            key = func.hashtext(
                func.concat("outbox-relay:", func.current_schema(), ":", self._name)
            )
            try:
                self._leading = bool(
                    await connection.scalar(select(func.pg_try_advisory_lock(key)))
                )
                await connection.commit()  # the lock is the session's; no transaction held
            except BaseException:
                await self.close()
                raise
        return self._leading

    async def wait(self, stop: asyncio.Event, poll_seconds: float) -> None:
        woken = asyncio.ensure_future(self._woken.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({woken, stopped}, timeout=poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        finally:
            woken.cancel()
            stopped.cancel()
        self._woken.clear()

    async def _ensure(self) -> AsyncConnection:
        if self._connection is not None and not self._connection.closed:
            raw = await self._connection.get_raw_connection()
            driver = raw.driver_connection
            if driver is not None and not driver.is_closed():
                return self._connection
            await self.close()
        try:
            connection = self._connection = await self._engine.connect()
            channel = await connection.scalar(select(OUTBOX_CHANNEL))
            await connection.commit()  # no transaction held while it listens
            if self._listen:
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None  # an asyncpg connection
                await driver.add_listener(channel, self._notified)
        except BaseException:
            await self.close()
            raise
        return connection

    def _notified(self, *_args: Any) -> None:
        self._woken.set()

    async def close(self) -> None:
        """Close the connection, and with it the lock and the listener."""
        connection, self._connection = self._connection, None
        self._leading = False
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()  # its lock and listener go, not to the pool
            with contextlib.suppress(Exception):
                await connection.close()
