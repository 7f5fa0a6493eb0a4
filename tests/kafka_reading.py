"""Making a test's topic, and reading it back with a plain aiokafka consumer, independent
of the code under test."""

import time
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.kafka_security import KafkaAccess


async def create_topic(
    kafka: KafkaAccess, partitions: int = 3, configs: dict[str, str] | None = None
) -> str:
    """A new topic of its own; 3 partitions, so per-key order is tested across partitions;
    `configs` are its topic settings (`max.message.bytes`, say)."""
    name = f"test.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(**kafka.aiokafka_options())
    await admin.start()
    try:
        topic = NewTopic(name, partitions, replication_factor=1, topic_configs=configs or {})
        await admin.create_topics([topic])
    finally:
        await admin.close()
    return name


async def read_records(
    kafka: KafkaAccess,
    topic: str,
    expected: int,
    timeout: float = 60.0,
    where: Callable[[ConsumerRecord[bytes, bytes]], bool] | None = None,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` from the beginning (only those `where` accepts, when given:
    a test's own among what other tests sent), until `expected` arrived or `timeout`."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.aiokafka_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for batch in batches.values():
                records.extend(r for r in batch if where is None or where(r))
    finally:
        await consumer.stop()
    return records
