"""Another agency's view: a plain Kafka client that is not faststream (librdkafka, through
confluent-kafka) reads both event topics from the start, and every event fits the
published JSON Schema of its type."""

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
from confluent_kafka import Consumer
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.activities.config import Settings as ActivitiesSettings
from services.activities.demo import load_demo as load_activities_demo
from services.registry.demo import Tally
from shared.contract_docs import FOLDER
from shared.kafka_security import KafkaAccess
from shared.tables import events

CE_HEADERS = {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject",
              "ce_province", "ce_correlationid", "ce_streamversion"}  # fmt: skip


async def stored(*engines: AsyncEngine) -> int:
    total = 0
    for engine in engines:
        async with engine.connect() as conn:
            total += int(await conn.scalar(select(func.count()).select_from(events)) or 0)
    return total


def read_all(kafka: KafkaAccess, topics: list[str], expected: int) -> list[Any]:
    consumer = Consumer(
        {
            **kafka.librdkafka_options(),
            "group.id": f"external-agency-{id(topics)}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(topics)
    messages: list[Any] = []
    try:
        for _poll in range(600):
            batch = consumer.consume(num_messages=1000, timeout=0.5)
            messages += [m for m in batch if m.error() is None]
            if len(messages) >= expected:
                break
    finally:
        consumer.close()
    return messages


async def test_a_plain_kafka_client_reads_every_event_and_each_fits_its_schema(
    activities: httpx.AsyncClient,
    activities_settings: ActivitiesSettings,
    registry_engine: AsyncEngine,
    activities_engine: AsyncEngine,
    demo: Tally,
) -> None:
    await load_activities_demo(activities)
    expected = await stored(registry_engine, activities_engine)
    topics = [activities_settings.registry_topic, activities_settings.activities_topic]

    messages = await asyncio.to_thread(read_all, activities_settings.kafka, topics, expected)

    validators = {
        path.name.removesuffix(".schema.json"): Draft202012Validator(json.loads(path.read_text()))
        for path in FOLDER.glob("*.schema.json")
    }
    types: Counter[str] = Counter()
    for message in messages:
        headers = {key: value.decode() for key, value in message.headers()}
        assert set(headers) >= CE_HEADERS, headers
        assert message.key().decode() == headers["ce_partitionkey"]
        errors = list(validators[headers["ce_type"]].iter_errors(json.loads(message.value())))
        assert errors == [], (headers["ce_type"], [e.message for e in errors])
        types[headers["ce_type"]] += 1
    assert len(messages) == expected
    assert types["vn.ketnghia.activity.recorded.v1"] == 11  # 6 through the API, 5 imported
    assert types["vn.ketnghia.registry.assignment.created.v1"] == 17
