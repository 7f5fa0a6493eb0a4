"""The idempotent consumer: projection writes and the consumer's progress in one transaction.

For each batch the consumer claims the event ids it has not processed yet
(`processed_events`), applies only those, and moves its offsets forward
(`consumer_positions`), all in one database transaction. A redelivered event, whether
in the same batch, a later batch or after a restart, finds its id claimed and changes
nothing; a failure rolls the whole batch back, and Kafka delivers it again.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from faststream import AckPolicy
from faststream.kafka.fastapi import KafkaMessage, KafkaRouter
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.envelope import Envelope
from shared.metrics import CONSUMER_APPLIED, CONSUMER_DUPLICATES
from shared.tables import consumer_positions, processed_events

Projector = Callable[[AsyncConnection, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class Delivery:
    """A consumed event and where in Kafka it was read."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int

    @classmethod
    def from_record(cls, record: Any) -> "Delivery":
        """From an aiokafka `ConsumerRecord`; raises `InvalidEnvelope` for a foreign message."""
        envelope = Envelope.from_kafka(record.headers, record.key, record.value)
        return cls(envelope, record.topic, record.partition, record.offset)


class IdempotentConsumer:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self.name = name

    async def apply(self, deliveries: Sequence[Delivery], project: Projector) -> int:
        """Apply the batch's new events with `project`; returns how many were new."""
        if not deliveries:
            return 0
        async with self._engine.begin() as conn:
            unclaimed = await self._claim(conn, [d.envelope.id for d in deliveries])
            applied = 0
            for delivery in deliveries:
                if delivery.envelope.id in unclaimed:
                    unclaimed.discard(delivery.envelope.id)  # twice in one batch: once
                    await project(conn, delivery.envelope)
                    CONSUMER_APPLIED.labels(self.name, delivery.envelope.type).inc()
                    applied += 1
            await self._advance(conn, deliveries)
        CONSUMER_DUPLICATES.labels(self.name).inc(len(deliveries) - applied)
        return applied

    async def _claim(self, conn: AsyncConnection, event_ids: list[UUID]) -> set[UUID]:
        rows = [{"consumer": self.name, "event_id": event_id} for event_id in set(event_ids)]
        claimed = await conn.execute(
            pg_insert(processed_events)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(processed_events.c.event_id)
        )
        return set(claimed.scalars())

    async def _advance(self, conn: AsyncConnection, deliveries: Sequence[Delivery]) -> None:
        latest: dict[tuple[str, int], Delivery] = {}
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
                    "event_time": delivery.envelope.time,
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


def subscribe(
    kafka: KafkaRouter,
    engine: AsyncEngine,
    *,
    topic: str,
    name: str,
    project: Projector,
    max_records: int = 500,
) -> None:
    """Apply `topic`'s events to the service's projection with `project`, in batches, from
    the topic's beginning, as consumer group `name`. Kafka offsets are committed after the
    batch's transaction; a failed batch is delivered again (and finds nothing applied)."""
    consumer = IdempotentConsumer(engine, name)

    @kafka.subscriber(
        topic,
        group_id=name,
        batch=True,
        max_records=max_records,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        include_in_schema=True,
    )
    async def handle(body: list[Any], message: KafkaMessage) -> None:
        records = message.raw_message
        batch = records if isinstance(records, tuple) else (records,)
        await consumer.apply([Delivery.from_record(record) for record in batch], project)
