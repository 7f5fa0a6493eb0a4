"""Outbox relay throughput: events per second from the event store to Kafka.

    python -m bench.outbox_relay [--events 100000] [--batch-size 2000]

The baseline, in the same run on the same broker, is the raw rate of publishing the same
envelopes with the same producer and settings and no database (encoded beforehand, sent
without waiting for each acknowledgement, timed to the last one): the relay's ceiling.
Beside it, the same envelopes through faststream's publisher, which the relay used before.
The machines are shared and noisy, so read the ratio more than the absolute figures.
"""

import argparse
import asyncio
import time
import uuid
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaBroker
from sqlalchemy import text

from shared.db import create_engine
from shared.devstack import Endpoints, provided_endpoints
from shared.envelope import Envelope, publish_envelope
from shared.eventstore import NewEvent, StoredEvent, append
from shared.kafka_security import KafkaAccess
from shared.migrations import upgrade
from shared.outbox import OutboxRelay, relay_producer


def sample_events(count: int) -> list[NewEvent]:
    return [
        NewEvent(
            type="vn.ketnghia.bench.recorded.v1",
            data={"value_vnd": 21_750_000, "quantity": 15, "unit": "chiếc", "n": n},
            province="68",
            partition_key=f"commune-{n % 97}",
            correlation_id=uuid.uuid4(),
        )
        for n in range(count)
    ]


async def run(endpoints: Endpoints, events: int, batch_size: int, in_flight: int) -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, "registry", endpoints.database_url, schema)
    engine = create_engine(endpoints.database_url, schema)
    try:
        new_events = sample_events(events)
        stored: list[StoredEvent] = []
        started = time.perf_counter()
        async with engine.begin() as conn:
            for first in range(0, events, 500):
                stored += await append(
                    conn,
                    f"stream-{first}",
                    0,
                    new_events[first : first + 500],
                    topic=f"bench.relay.{schema}",
                )
        append_seconds = time.perf_counter() - started

        envelopes = [event.to_envelope("/ketnghia/bench") for event in stored]
        former_seconds = await faststream_publish(
            endpoints.kafka(), f"bench.former.{schema}", envelopes
        )
        baseline_seconds = await raw_publish(endpoints.kafka(), f"bench.raw.{schema}", envelopes)
        batches_seconds = await raw_batches(endpoints.kafka(), f"bench.batches.{schema}", envelopes)

        relay = OutboxRelay(
            engine,
            lambda: relay_producer(endpoints.kafka(), "bench"),
            source="/ketnghia/bench",
            batch_size=batch_size,
            in_flight=in_flight,
        )
        started = time.perf_counter()
        await relay.drain()
        relay_seconds = time.perf_counter() - started
        await relay.close()
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()

    print(f"events                       {events}")
    print(f"append (500 per transaction) {events / append_seconds:10.0f} events/s")
    print(f"faststream's publisher       {events / former_seconds:10.0f} events/s")
    print(f"baseline: raw publish        {events / baseline_seconds:10.0f} events/s")
    relay_label = f"outbox relay ({batch_size}×{in_flight})"
    print(f"{relay_label:<29}{events / relay_seconds:10.0f} events/s")
    print(f"baseline: raw record batches {events / batches_seconds:10.0f} events/s")
    print(f"relay / raw publish          {baseline_seconds / relay_seconds:10.2f}")
    print(f"relay / raw record batches   {batches_seconds / relay_seconds:10.2f}")


async def raw_publish(kafka: KafkaAccess, topic: str, envelopes: list[Envelope]) -> float:
    """Send the envelopes, encoded beforehand, with the relay's producer and settings, every
    acknowledgement awaited at the end: no database, no encoding in the time."""
    records = [envelope.to_kafka() for envelope in envelopes]
    producer = relay_producer(kafka, "bench-baseline")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}")  # the topic made and its metadata read
        started = time.perf_counter()
        acknowledgements = [
            await producer.send(
                topic,
                record.value,
                envelope.partitionkey.encode(),
                headers=list(record.headers.items()),
            )
            for envelope, record in zip(envelopes, records, strict=True)
        ]
        await asyncio.gather(*acknowledgements)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def raw_batches(kafka: KafkaAccess, topic: str, envelopes: list[Envelope]) -> float:
    """The same, in record batches the caller fills, one per partition (`send_batch`, as
    the relay sends): the producer's fastest use, one acknowledgement per batch."""
    records = [envelope.to_kafka() for envelope in envelopes]
    producer = relay_producer(kafka, "bench-baseline-batches")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}")
        partitions = sorted(await producer.partitions_for(topic))
        choose = DefaultPartitioner()
        started = time.perf_counter()
        builders: dict[int, Any] = {}
        sent = []
        for envelope, record in zip(envelopes, records, strict=True):
            key = envelope.partitionkey.encode()
            partition = choose(key, partitions, partitions)
            builder = builders.setdefault(partition, producer.create_batch())
            headers = list(record.headers.items())
            if builder.append(key=key, value=record.value, timestamp=None, headers=headers) is None:
                sent.append(await producer.send_batch(builder, topic, partition=partition))
                builder = builders[partition] = producer.create_batch()
                builder.append(key=key, value=record.value, timestamp=None, headers=headers)
        for partition, builder in builders.items():
            sent.append(await producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*sent)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def faststream_publish(kafka: KafkaAccess, topic: str, messages: list[Envelope]) -> float:
    """The envelopes through faststream's publisher (the relay's before), same settings."""
    broker = KafkaBroker(
        **kafka.faststream_options(), client_id="bench-former", acks="all",
        enable_idempotence=True, request_timeout_ms=10_000,
    )  # fmt: skip
    await broker.start()
    try:
        await broker.publish(b"{}", topic)
        started = time.perf_counter()
        acknowledgements = [
            await publish_envelope(broker, topic, message, no_confirm=True) for message in messages
        ]
        await asyncio.gather(*acknowledgements)
        return time.perf_counter() - started
    finally:
        await broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--in-flight", type=int, default=2)
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.events, args.batch_size, args.in_flight))


if __name__ == "__main__":
    main()
