"""Outbox relay throughput: events per second from the event store to Kafka.

    python -m bench.outbox_relay [--events 20000] [--batch-size 500]

The baseline, in the same run on the same broker, is the raw rate of publishing the same
envelopes with the same producer settings and no database: the relay's ceiling. The
machines are shared and noisy, so read the ratio more than the absolute figures.
"""

import argparse
import asyncio
import time
import uuid

from sqlalchemy import text

from shared.db import create_engine
from shared.devstack import Endpoints, provided_endpoints
from shared.envelope import Envelope, publish_envelope
from shared.eventstore import NewEvent, StoredEvent, append
from shared.kafka_security import KafkaAccess
from shared.migrations import upgrade
from shared.outbox import OutboxRelay, publishing_broker


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


async def run(endpoints: Endpoints, events: int, batch_size: int) -> None:
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
        baseline_seconds = await raw_publish(endpoints.kafka(), f"bench.raw.{schema}", envelopes)

        relay = OutboxRelay(
            engine,
            lambda: publishing_broker(endpoints.kafka(), "bench"),
            source="/ketnghia/bench",
            batch_size=batch_size,
        )
        started = time.perf_counter()
        while await relay.publish_batch():
            pass
        relay_seconds = time.perf_counter() - started
        await relay.close()
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()

    print(f"events                       {events}")
    print(f"append (500 per transaction) {events / append_seconds:10.0f} events/s")
    print(f"baseline: raw publish        {events / baseline_seconds:10.0f} events/s")
    print(f"outbox relay (batch {batch_size:>5})   {events / relay_seconds:10.0f} events/s")
    print(f"relay / baseline             {baseline_seconds / relay_seconds:10.2f}")


async def raw_publish(kafka: KafkaAccess, topic: str, messages: list[Envelope]) -> float:
    """Publish the envelopes straight to Kafka, every acknowledgement awaited."""
    broker = publishing_broker(kafka, "bench-baseline")
    await broker.start()
    try:
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
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.events, args.batch_size))


if __name__ == "__main__":
    main()
