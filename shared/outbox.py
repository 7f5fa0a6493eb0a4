"""The transactional outbox relay: publishes stored events to Kafka, in order, none lost.

Commands write their events and the outbox rows in one transaction (`eventstore.append`).
The relay reads the oldest outbox rows, publishes them, waits for every acknowledgement
and only then deletes those rows and records how far it got, all in one transaction.
If the broker is down the transaction rolls back, the rows stay, and the relay retries
with a growing pause: a broker outage delays events, it never loses them.

A retried batch may publish an event twice; consumers are idempotent by event id.
Order per key holds: rows are read in position order, and the producer is idempotent
with one request in flight per partition, so a failed send fails the sends behind it.
The rows are read `FOR UPDATE`, so a second relay of the same service waits its turn.

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
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)
from faststream.kafka import KafkaBroker
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from shared.envelope import publish_envelope
from shared.eventstore import OUTBOX_CHANNEL, STORED_COLUMNS, StoredEvent
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

BrokerFactory = Callable[[], KafkaBroker]
# Counting the outbox costs a scan of it: while a backlog drains, refresh the gauges
# at most this often rather than after every batch.
BACKLOG_OBSERVE_SECONDS = 1.0
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
Pending = list[tuple[str, StoredEvent]]


def publishing_broker(
    kafka: KafkaAccess, client_id: str, middlewares: Sequence[Any] = ()
) -> KafkaBroker:
    """A broker for publishing only: every replica acknowledges, no duplicates on retry."""
    return KafkaBroker(
        **kafka.faststream_options(),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        middlewares=middlewares,
    )


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        new_broker: BrokerFactory,
        *,
        source: str,
        name: str = "outbox",
        batch_size: int = 500,
        poll_seconds: float = 0.2,
        publish_timeout_seconds: float = 30.0,
        listen: bool = True,
    ) -> None:
        self._engine = engine
        self._new_broker = new_broker
        self._broker: KafkaBroker | None = None
        self._source = source
        self._name = name
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._publish_timeout = publish_timeout_seconds
        self._listen = listen
        self._observed_at = 0.0  # monotonic time the backlog gauges were last refreshed
        pipeline = f"outbox:{source}"  # one per service, even in one process (the tests)
        self.stall = STALLS.setdefault(pipeline, Stall(pipeline))

    async def publish_batch(self) -> int:
        """Publish the oldest pending events (at most one batch); returns how many left the
        outbox (published or parked). Each event by its own answer: acknowledged ones
        leave the outbox, refused-for-good ones are parked, and if any other failed, the
        rest stay for the next batch and the failure is raised once that is committed."""
        parked: list[tuple[str, StoredEvent, BaseException]] = []
        failed: BaseException | None = None
        async with self._engine.begin() as conn:
            batch = await self._pending(conn)
            done = batch
            if batch:
                try:
                    acked, parked, failed = await asyncio.wait_for(
                        self._publish(batch), self._publish_timeout
                    )
                except Exception:
                    await self.close()
                    raise
                settled = acked | {stored.position for _, stored, _ in parked}
                done = [(topic, stored) for topic, stored in batch if stored.position in settled]
                if done:
                    await self._mark_published(conn, done, parked)
            caught_up = len(batch) < self._batch_size
            if caught_up or time.monotonic() - self._observed_at >= BACKLOG_OBSERVE_SECONDS:
                await self._observe_backlog(conn)
        refused = {stored.position for _, stored, _ in parked}
        for topic, stored in done:
            if stored.position not in refused:
                OUTBOX_PUBLISHED.labels(topic=topic).inc()
        for topic, stored, reason in parked:
            OUTBOX_PARKED.labels(topic=topic).inc()
            log.error("event parked: Kafka refuses it for good", topic=topic,
                      position=stored.position, event_id=str(stored.event_id),
                      type=stored.type, reason=repr(reason)[:500])  # fmt: skip
        if failed is not None:  # a new producer next time (its sequence numbers start over)
            await self.close()
            raise failed
        self.stall.passed()
        return len(done)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set: batches back to back while there is a backlog,
        failures retried with a growing pause until they pass or `stop` is set. Idle, it
        waits for a commit's notification (`LISTEN`), or `poll_seconds` at most: a commit
        whose notification is missed (the listening connection lost) is found by the poll."""
        listening = Listening(self._engine, self._listen)
        try:
            await self._run(stop, listening)
        finally:
            await listening.close()

    async def _run(self, stop: asyncio.Event, listening: "Listening") -> None:
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
                    published: int = await retrying(self.publish_batch)
                except Exception:
                    if stop.is_set():
                        break  # shutting down while the broker or database is away
                    raise
                if published == 0:
                    await listening.wait(stop, self._poll_seconds)
        finally:
            await self.close()

    async def _connected(self) -> KafkaBroker:
        if self._broker is None:
            broker = self._new_broker()
            try:
                await broker.start()
            except BaseException:
                await broker.stop()
                raise
            self._broker = broker
        return self._broker

    async def close(self) -> None:
        """Disconnect the producer; the next batch connects a new one."""
        broker, self._broker = self._broker, None
        if broker is not None:
            with contextlib.suppress(Exception):
                await broker.stop()

    async def _pending(self, conn: AsyncConnection) -> list[tuple[str, StoredEvent]]:
        rows = await conn.execute(
            select(outbox.c.topic, *STORED_COLUMNS)
            .join(events, events.c.position == outbox.c.position)
            .order_by(outbox.c.position)
            .limit(self._batch_size)
            .with_for_update(of=outbox)
        )
        return [(row.topic, StoredEvent.from_row(row._mapping)) for row in rows]

    async def _publish(
        self, batch: Pending
    ) -> tuple[set[int], list[tuple[str, StoredEvent, BaseException]], BaseException | None]:
        """Publish the batch and wait for every answer: the positions acknowledged, the
        events Kafka refused for good (with its answer), and the first other failure."""
        broker = await self._connected()
        sent = []
        parked: list[tuple[str, StoredEvent, BaseException]] = []
        failed: BaseException | None = None
        for topic, stored in batch:
            envelope = stored.to_envelope(self._source)
            try:
                sent.append(
                    (
                        topic,
                        stored,
                        await publish_envelope(broker, topic, envelope, no_confirm=True),
                    )
                )
            except REFUSED_FOR_GOOD as refused:  # the producer's own check: too large
                parked.append((topic, stored, refused))
            except Exception as error:  # the rest waits for the next batch
                failed = error
                break
        answers = await asyncio.gather(*(ack for _, _, ack in sent), return_exceptions=True)
        acked: set[int] = set()
        for (topic, stored, _), answer in zip(sent, answers, strict=True):
            if isinstance(answer, REFUSED_FOR_GOOD):
                parked.append((topic, stored, answer))
            elif isinstance(answer, BaseException):
                failed = failed or answer
            else:
                acked.add(stored.position)
        return acked, parked, failed

    async def _mark_published(
        self,
        conn: AsyncConnection,
        batch: Pending,
        parked: list[tuple[str, StoredEvent, BaseException]],
    ) -> None:
        positions = [stored.position for _, stored in batch]
        if parked:
            await conn.execute(
                pg_insert(outbox_parked).values([
                    {"position": stored.position, "topic": topic,
                     "reason": f"{type(reason).__name__}: {reason}"[:1000]}
                    for topic, stored, reason in parked
                ]).on_conflict_do_nothing()
            )  # fmt: skip
        await conn.execute(delete(outbox).where(outbox.c.position.in_(positions)))
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


class Listening:
    """A connection of its own that `LISTEN`s on the service's outbox channel; `wait`
    returns when a commit notifies, `stop` is set, or `poll_seconds` pass. Lost (the
    database restarted), it is opened again on the next wait; meanwhile the poll works."""

    def __init__(self, engine: AsyncEngine, enabled: bool = True) -> None:
        self._engine = engine
        self._enabled = enabled
        self._connection: AsyncConnection | None = None
        self._woken = asyncio.Event()

    async def wait(self, stop: asyncio.Event, poll_seconds: float) -> None:
        await self._ensure()
        woken = asyncio.ensure_future(self._woken.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({woken, stopped}, timeout=poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        finally:
            woken.cancel()
            stopped.cancel()
        self._woken.clear()

    async def _ensure(self) -> None:
        if not self._enabled:
            return
        if self._connection is not None and not self._connection.closed:
            raw = await self._connection.get_raw_connection()
            driver = raw.driver_connection
            if driver is not None and not driver.is_closed():
                return
            await self.close()
        try:
            self._connection = await self._engine.connect()
            channel = await self._connection.scalar(select(OUTBOX_CHANNEL))
            await self._connection.commit()  # no transaction held while it listens
            raw = await self._connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None  # an asyncpg connection
            await driver.add_listener(channel, self._notified)
        except Exception as error:  # the database away: the poll carries on
            log.warning("outbox relay cannot listen, polling", error=repr(error)[:300])
            await self.close()

    def _notified(self, *_args: Any) -> None:
        self._woken.set()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()  # its listener goes with it, not to the pool
            with contextlib.suppress(Exception):
                await connection.close()
