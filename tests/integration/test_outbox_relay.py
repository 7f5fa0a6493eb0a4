import asyncio
import os
import time
from collections import defaultdict
from uuid import UUID

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.devstack import Endpoints, LocalStack
from shared.envelope import Envelope
from shared.eventstore import append
from shared.outbox import OutboxRelay, publishing_broker
from shared.tables import outbox, outbox_relay_state
from tests.factories import new_event
from tests.kafka_reading import read_records

EVENTS = 1_000
COMMUNES = 20


async def outbox_size(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(outbox)) or 0)


async def write_events(engine: AsyncEngine, topic: str, appended: list[UUID]) -> None:
    """EVENTS events over COMMUNES streams, one command (transaction) per event."""
    versions: dict[str, int] = defaultdict(int)
    for number in range(EVENTS):
        commune = f"commune-{number % COMMUNES}"
        async with engine.begin() as conn:
            [stored] = await append(
                conn,
                f"stream-{commune}",
                versions[commune],
                [new_event(commune, n=number)],
                topic=topic,
            )
        versions[commune] += 1
        appended.append(stored.event_id)
        await asyncio.sleep(0.002)  # a steady stream of commands, not one burst


@pytest.mark.skipif(
    bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")),
    reason="stops and restarts the broker, which needs the local stack",
)
async def test_every_event_arrives_in_order_per_key_across_a_broker_outage(
    engine: AsyncEngine, endpoints: Endpoints, topic: str
) -> None:
    stack = LocalStack()
    relay = OutboxRelay(
        engine,
        lambda: publishing_broker(endpoints.kafka(), "tests"),
        source="/ketnghia/tests",
        batch_size=100,
        poll_seconds=0.05,
        publish_timeout_seconds=8,
    )
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    appended: list[UUID] = []
    writing = asyncio.create_task(write_events(engine, topic, appended))

    while len(appended) < EVENTS // 4:
        await asyncio.sleep(0.05)
    kafka_pid = stack.state().kafka_pid
    assert kafka_pid is not None
    await asyncio.to_thread(stack.kafka.stop, kafka_pid)  # the broker goes away mid-way
    outage_started = len(appended)
    await asyncio.sleep(3)
    backlog_during_outage = await outbox_size(engine)
    await asyncio.to_thread(stack.up)  # and comes back, on the same port, with its data

    await writing
    deadline = time.monotonic() + 120
    while await outbox_size(engine) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.set()
    await relaying

    assert outage_started < EVENTS
    assert backlog_during_outage > 0, "events written during the outage waited in the outbox"
    assert await outbox_size(engine) == 0
    records = await read_records(endpoints.kafka(), topic, expected=EVENTS)
    first_seen: dict[UUID, Envelope] = {}
    order_per_key: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = Envelope.from_kafka(record.headers, record.key, record.value)
        assert record.key == event.partitionkey.encode()
        if event.id not in first_seen:  # a retried batch may repeat events: keep the first
            first_seen[event.id] = event
            order_per_key[event.partitionkey].append(event.streamversion)
    assert set(first_seen) == set(appended), "every appended event arrived"
    for key, versions in order_per_key.items():
        assert versions == sorted(versions), f"events of {key} arrived out of order"
        assert versions == list(range(1, EVENTS // COMMUNES + 1))
    async with engine.connect() as conn:
        state = (await conn.execute(select(outbox_relay_state))).one()
    assert state.published_total >= EVENTS
