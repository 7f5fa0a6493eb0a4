import pytest
import structlog
from faststream.kafka import KafkaBroker
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from structlog.contextvars import merge_contextvars
from structlog.testing import CapturingLogger, LogCapture

from shared import consumer as consumer_module
from shared.consumer import PROJECTION_LOCK, Delivery, IdempotentConsumer, each, projection_lock
from shared.devstack import Endpoints
from shared.envelope import Envelope, publish_envelope
from tests.factories import envelope
from tests.kafka_reading import read_records

COMMUNES = ["commune-22945", "commune-25606", "commune-03208"]


async def totals_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE totals (commune text PRIMARY KEY, value_vnd bigint NOT NULL)")
        )


async def add_to_total(conn: AsyncConnection, event: Envelope) -> None:
    await conn.execute(
        text(
            "INSERT INTO totals VALUES (:commune, :value) ON CONFLICT (commune) "
            "DO UPDATE SET value_vnd = totals.value_vnd + excluded.value_vnd"
        ),
        {"commune": event.partitionkey, "value": event.data["value_vnd"]},
    )


async def totals(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT commune, value_vnd FROM totals"))
        return {row.commune: row.value_vnd for row in rows}


async def test_the_same_events_delivered_twice_are_applied_once(
    engine: AsyncEngine, broker: KafkaBroker, endpoints: Endpoints, topic: str
) -> None:
    await totals_table(engine)
    sent = [envelope(COMMUNES[n % 3], value_vnd=1_000_000 * (n + 1)) for n in range(30)]
    for _delivery_round in range(2):  # a producer retry: every event reaches Kafka twice
        for event in sent:
            await publish_envelope(broker, topic, event)
    records = await read_records(endpoints.kafka(), topic, expected=60)
    deliveries = [Delivery.from_record(record) for record in records]
    consumer = IdempotentConsumer(engine, "totals")

    applied_first = await consumer.apply(deliveries, each(add_to_total))
    applied_again = await consumer.apply(deliveries, each(add_to_total))  # a redelivered batch

    assert len(deliveries) == 60
    assert applied_first == 30
    assert applied_again == 0
    expected: dict[str, int] = {}
    for event in sent:
        expected[event.partitionkey] = expected.get(event.partitionkey, 0) + event.data["value_vnd"]
    assert await totals(engine) == expected
    async with engine.connect() as conn:
        positions = await conn.execute(
            text("SELECT partition, next_offset FROM consumer_positions WHERE consumer='totals'")
        )
        stored = {row.partition: row.next_offset for row in positions}
    last_offsets: dict[int, int] = {}
    for record in records:
        last_offsets[record.partition] = max(last_offsets.get(record.partition, -1), record.offset)
    assert stored == {partition: offset + 1 for partition, offset in last_offsets.items()}


async def test_a_failing_batch_leaves_no_trace_and_applies_fully_when_redelivered(
    engine: AsyncEngine,
) -> None:
    await totals_table(engine)
    batch = [
        Delivery.of(envelope(COMMUNES[0], value_vnd=value), "t", 0, offset)
        for offset, value in enumerate([5, 7, 11])
    ]
    calls = 0

    async def fails_on_the_third(conn: AsyncConnection, event: Envelope) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("projection write failed")
        await add_to_total(conn, event)

    consumer = IdempotentConsumer(engine, "totals")
    with pytest.raises(RuntimeError, match="projection write failed"):
        await consumer.apply(batch, each(fails_on_the_third))
    assert await totals(engine) == {}

    assert await consumer.apply(batch, each(add_to_total)) == 3
    assert await totals(engine) == {COMMUNES[0]: 23}


async def test_two_consumers_keep_separate_records_of_what_they_applied(
    engine: AsyncEngine,
) -> None:
    await totals_table(engine)
    batch = [Delivery.of(envelope(COMMUNES[1], value_vnd=3), "t", 0, 0)]
    assert await IdempotentConsumer(engine, "totals").apply(batch, each(add_to_total)) == 1
    assert await IdempotentConsumer(engine, "audit").apply(batch, each(add_to_total)) == 1
    assert await totals(engine) == {COMMUNES[1]: 6}


async def test_each_applied_event_is_logged_with_its_correlation_id_and_province(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await totals_table(engine)
    capture = LogCapture()
    logger = structlog.wrap_logger(CapturingLogger(), processors=[merge_contextvars, capture])
    monkeypatch.setattr(consumer_module, "log", logger)
    sent = [
        envelope(COMMUNES[n], value_vnd=1_000).model_copy(update={"province": province})
        for n, province in enumerate(["60", "49"])
    ]

    await IdempotentConsumer(engine, "logged").apply(
        [Delivery.of(event, "topic", 0, n) for n, event in enumerate(sent)], each(add_to_total)
    )

    applied = [line for line in capture.entries if line["event"] == "event applied"]
    assert [(line["event_id"], line["correlation_id"], line["province"]) for line in applied] == [
        (str(event.id), str(event.correlationid), event.province) for event in sent
    ]


async def test_the_rebuilds_lock_on_a_schema_is_the_one_its_consumers_hold(
    engine: AsyncEngine, schema: str
) -> None:
    """The key a consumer takes shared (its own schema, `PROJECTION_LOCK`) is the key the
    rebuild takes exclusively naming that schema, and another schema's key differs."""
    async with engine.connect() as conn:
        own = await conn.scalar(select(PROJECTION_LOCK))
        named = await conn.scalar(select(projection_lock(schema)))
        other = await conn.scalar(select(projection_lock(f"{schema}_rebuild")))
    assert own == named
    assert own != other
