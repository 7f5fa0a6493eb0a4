import asyncio
import json
import os
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth import Actor
from shared.devstack import Endpoints, LocalStack
from shared.devstack.processes import free_port
from shared.envelope import Envelope
from shared.eventstore import append
from shared.health import STALLS
from shared.outbox import REFUSED_FOR_GOOD, OutboxRelay, relay_producer
from shared.tables import outbox, outbox_parked, outbox_relay_state
from tests.factories import new_event
from tests.integration.conftest import eventually
from tests.kafka_reading import create_topic, read_records

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
        lambda: relay_producer(endpoints.kafka(), "tests"),
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

    async def drained() -> bool:
        return await outbox_size(engine) == 0

    try:
        await eventually(drained, timeout=120)
    finally:
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


async def test_an_event_kafka_refuses_for_good_is_parked_and_the_rest_go_on(
    engine: AsyncEngine, endpoints: Endpoints, topic: str
) -> None:
    """An event larger than Kafka takes (one the APIs' bounds now refuse; an older one, or
    one written by hand): parked with the reason, counted, `/readyz`'s business; the
    events behind it, of its key too, are published."""
    relay = OutboxRelay(
        engine, lambda: relay_producer(endpoints.kafka(), "tests"), source="/ketnghia/tests"
    )
    async with engine.begin() as conn:
        [before] = await append(conn, "stream-a", 0, [new_event("commune-1", n=1)], topic=topic)
        [huge] = await append(
            conn, "stream-a", 1, [new_event("commune-1", blob="x" * 2_000_000)], topic=topic
        )
        [after] = await append(conn, "stream-a", 2, [new_event("commune-1", n=3)], topic=topic)
    parked_before = REGISTRY.get_sample_value("ketnghia_outbox_parked_total", {"topic": topic})

    left = await relay.publish_batch()
    await relay.close()

    records = await read_records(endpoints.kafka(), topic, expected=2)
    async with engine.connect() as conn:
        parked = (await conn.execute(select(outbox_parked))).all()
    assert left == 3
    assert await outbox_size(engine) == 0
    assert [dict(r.headers)["ce_id"] for r in records] == [
        str(before.event_id).encode(),
        str(after.event_id).encode(),
    ]
    assert [(p.position, p.topic) for p in parked] == [(huge.position, topic)]
    assert parked[0].reason.startswith("MessageSizeTooLargeError")
    parked_now = REGISTRY.get_sample_value("ketnghia_outbox_parked_total", {"topic": topic})
    assert (parked_now or 0) - (parked_before or 0) == 1


async def test_a_failing_relay_keeps_its_gauges_true_and_says_it_is_stuck(
    engine: AsyncEngine, endpoints: Endpoints, topic: str
) -> None:
    """A relay that cannot reach any broker: the backlog gauge shows the waiting event and
    the stall is recorded (what `/readyz` and the alerts read)."""
    unreachable = replace(endpoints.kafka(), bootstrap_servers=f"127.0.0.1:{free_port()}")
    relay = OutboxRelay(
        engine, lambda: relay_producer(unreachable, "tests"), source="/ketnghia/stuck",
        publish_timeout_seconds=1,
    )  # fmt: skip
    async with engine.begin() as conn:
        await append(conn, "stream-b", 0, [new_event("commune-2")], topic=topic)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    try:
        for _attempt in range(100):
            if relay.stall.failures >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await relaying

    failures, backlog = relay.stall.failures, REGISTRY.get_sample_value("ketnghia_outbox_backlog")
    stalled = REGISTRY.get_sample_value(
        "ketnghia_pipeline_stalled", {"pipeline": "outbox:/ketnghia/stuck"}
    )
    relay.stall.passed()  # this process's other tests ask /readyz, which reads every stall
    STALLS.pop(relay.stall.name)
    assert failures >= 2
    assert (backlog or 0) >= 1
    assert stalled == 1


async def test_a_commit_wakes_the_relay_without_waiting_for_its_poll(
    engine: AsyncEngine, endpoints: Endpoints, topic: str
) -> None:
    """The relay polls every 30 s here; an appended event still reaches Kafka at once,
    because its commit notifies the relay (`LISTEN outbox:<schema>`)."""
    relay = OutboxRelay(
        engine, lambda: relay_producer(endpoints.kafka(), "tests"), source="/ketnghia/tests",
        poll_seconds=30,
    )  # fmt: skip
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(1.5)  # idle: listening, the first poll long past
        started = time.monotonic()
        async with engine.begin() as conn:
            [stored] = await append(conn, "stream-w", 0, [new_event("commune-3")], topic=topic)
        records = await read_records(endpoints.kafka(), topic, expected=1, timeout=20)
        waited = time.monotonic() - started
    finally:
        stop.set()
        await relaying

    assert [dict(r.headers)["ce_id"] for r in records] == [str(stored.event_id).encode()]
    assert waited < 10, f"{waited:.1f} s: the relay waited for its poll"


async def test_the_relay_sends_each_event_as_its_envelope_writes_it(
    engine: AsyncEngine, endpoints: Endpoints, topic: str
) -> None:
    """The relay reads events as the bytes it sends (`PENDING`, formatted by PostgreSQL):
    key, headers in the same order and data equal to `Envelope.to_kafka` of the stored
    event, with and without an author and a fraction of a second."""
    author = Actor("sub-1", "Nguyễn Thị Hoa " + "x" * 300, "unit_clerk", ("unit-a", "unit-b"))
    cases = [
        new_event("commune-1", value_vnd=21_750_000, note="Xe đạp", items=[1, 2.5, None]),
        replace(
            new_event("commune-2"),
            actor=author,
            occurred_at=datetime(2025, 7, 1, tzinfo=UTC),
        ),
        replace(
            new_event("commune-3", text='"quoted" \\ đ\n'),
            occurred_at=datetime(2024, 9, 30, 8, 15, 42, 120, tzinfo=UTC),
        ),
    ]
    async with engine.begin() as conn:
        stored = [
            stored
            for number, event in enumerate(cases)
            for stored in await append(conn, f"stream-e{number}", 0, [event], topic=topic)
        ]
    relay = OutboxRelay(
        engine, lambda: relay_producer(endpoints.kafka(), "tests"), source="/ketnghia/tests"
    )
    assert await relay.drain() == len(cases)
    await relay.close()

    records = await read_records(endpoints.kafka(), topic, expected=len(cases))
    by_id = {dict(record.headers)["ce_id"]: record for record in records}
    for event in stored:
        expected = event.to_envelope("/ketnghia/tests").to_kafka()
        record = by_id[str(event.event_id).encode()]
        assert record.key == event.partition_key.encode()
        assert expected.key == event.partition_key
        assert list(record.headers) == list(expected.headers.items())
        assert json.loads(record.value) == json.loads(expected.value) == event.data
        assert Envelope.from_kafka(record.headers, record.key, record.value) == (
            event.to_envelope("/ketnghia/tests")
        )


async def test_one_relay_of_a_service_publishes_and_another_takes_over_when_it_stops(
    engine: AsyncEngine, endpoints: Endpoints, topic: str
) -> None:
    """Two replicas' relays on one schema: one holds the relay lock and publishes every
    event once; stopped, its lock goes with its connection and the other publishes."""
    relays = [
        OutboxRelay(
            engine,
            lambda: relay_producer(endpoints.kafka(), "tests"),
            source=f"/ketnghia/replica-{n}",
            poll_seconds=0.05,
        )
        for n in range(2)
    ]
    stops = [asyncio.Event(), asyncio.Event()]
    running = [asyncio.create_task(r.run(s)) for r, s in zip(relays, stops, strict=True)]
    published_before = (
        REGISTRY.get_sample_value("ketnghia_outbox_published_total", {"topic": topic}) or 0
    )
    try:
        async with engine.begin() as conn:
            first = await append(
                conn, "stream-r", 0, [new_event("commune-r", n=n) for n in range(50)], topic=topic
            )
        records = await read_records(endpoints.kafka(), topic, expected=50, timeout=30)
        sources = {dict(r.headers)["ce_source"] for r in records}
        assert len(sources) == 1, "one relay published them all"
        leader = 0 if sources == {b"/ketnghia/replica-0"} else 1
        stops[leader].set()
        await running[leader]

        async with engine.begin() as conn:
            second = await append(
                conn, "stream-r", 50, [new_event("commune-r", n=n) for n in range(50, 60)],
                topic=topic,
            )  # fmt: skip
        records = await read_records(endpoints.kafka(), topic, expected=60, timeout=30)
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*running)

    ids = [dict(r.headers)["ce_id"] for r in records]
    assert ids == [str(e.event_id).encode() for e in first + second], "each once, in order"
    later = {dict(r.headers)["ce_source"] for r in records[50:]}
    assert later == {f"/ketnghia/replica-{1 - leader}".encode()}
    published = REGISTRY.get_sample_value("ketnghia_outbox_published_total", {"topic": topic})
    assert (published or 0) - published_before == 60


async def test_a_record_batch_kafka_refuses_is_sent_again_one_event_at_a_time(
    engine: AsyncEngine, endpoints: Endpoints
) -> None:
    """A topic that takes messages of 100 KB at most: events of 30 KB each fit alone but
    not four in a record batch, and one of 150 KB fits nowhere. The relay's batch is
    refused, so it sends the events one at a time: the small ones are published, in
    order, the large one is parked (each refusal a failure `run` retries after a pause,
    with a new producer)."""
    topic = await create_topic(endpoints.kafka(), partitions=1,
                               configs={"max.message.bytes": "100000"})  # fmt: skip
    sizes = [30_000, 30_000, 150_000, 30_000, 30_000]
    async with engine.begin() as conn:
        stored = await append(
            conn, "stream-big", 0,
            [new_event("commune-b", blob="x" * size) for size in sizes], topic=topic,
        )  # fmt: skip
    relay = OutboxRelay(
        engine, lambda: relay_producer(endpoints.kafka(), "tests"), source="/ketnghia/tests"
    )
    failures = []
    for _attempt in range(5):  # as `run` retries: the batch refused, then the large event
        try:
            await relay.drain()
            break
        except Exception as failure:
            failures.append(type(failure))
    await relay.close()

    records = await read_records(endpoints.kafka(), topic, expected=4)
    async with engine.connect() as conn:
        parked = (await conn.execute(select(outbox_parked.c.position))).scalars().all()
    small = [event for event, size in zip(stored, sizes, strict=True) if size < 100_000]
    assert [dict(r.headers)["ce_id"] for r in records] == [str(e.event_id).encode() for e in small]
    assert parked == [stored[2].position]
    assert await outbox_size(engine) == 0
    assert failures[0] in REFUSED_FOR_GOOD
