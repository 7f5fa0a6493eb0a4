"""The broker's door, on the real broker: SASL/SCRAM users and their ACLs.

"A plain Kafka client with an agency's credentials reads the topics and is refused on
write; a client without credentials cannot connect." Each service's user does what its
service does and no more. The topics here carry the real topics' names as prefixes
(`ketnghia.activities.test-…`), which the PREFIXED ACLs cover, so nothing is written to
the topics a running stack's services consume.

Needs every user's password, which only the local stack knows: skipped for a broker the
environment names with one user.
"""

import asyncio
import uuid
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from services.registry.config import Settings
from shared.devstack import Endpoints
from shared.devstack.kafka_acls import AGENCY, TOPICS, USERS
from shared.kafka_security import KafkaAccess, KafkaRefused, KafkaUnreachable
from shared.outbox import relay_producer
from shared.service import create_service_app
from tests.http import serve

BOUND = 20.0  # seconds: a refusal must come well within this, never a hang


@dataclass(frozen=True)
class Topics:
    registry: str
    activities: str
    dead_letters: str


@pytest.fixture(scope="module")
def users(endpoints: Endpoints) -> Endpoints:
    if missing := set(USERS) - set(endpoints.kafka_passwords):
        pytest.skip(f"the broker's users {sorted(missing)} are known to the local stack only")
    return endpoints


@pytest.fixture(scope="module")
async def topics(users: Endpoints) -> Topics:
    """Topics under the platform's names, made by the admin, one record in each."""
    suffix = f"test-{uuid.uuid4().hex[:8]}"
    names = Topics(*(f"{topic}.{suffix}" for topic in TOPICS))
    kafka = users.kafka().aiokafka_options()
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in vars(names).values()])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**kafka, acks="all")
    await producer.start()
    try:
        for name in vars(names).values():
            await producer.send_and_wait(name, b"by the admin", key=b"commune:pre-2025:23116")
    finally:
        await producer.stop()
    return names


async def read_one(kafka: KafkaAccess, topic: str, group: str) -> bytes:
    """The first record of `topic`, read in consumer group `group` (offsets committed)."""
    consumer = AIOKafkaConsumer(
        topic, **kafka.aiokafka_options(), group_id=group, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
        async with asyncio.timeout(BOUND):
            record = await consumer.getone()
        await consumer.commit()
        return bytes(record.value)
    finally:
        await consumer.stop()


async def write(kafka: KafkaAccess, topic: str) -> None:
    """Publish as the services do: idempotent, every replica acknowledging."""
    producer = relay_producer(kafka, "tests")
    await producer.start()
    try:
        async with asyncio.timeout(BOUND):
            await producer.send_and_wait(topic, b"written", key=b"commune:pre-2025:23116")
    finally:
        await producer.stop()


async def test_an_agency_reads_the_topics_and_is_refused_on_write(
    users: Endpoints, topics: Topics
) -> None:
    agency = users.kafka(AGENCY)
    group = f"{AGENCY}.statistics-{uuid.uuid4().hex[:6]}"

    for topic in (topics.registry, topics.activities):
        assert await read_one(agency, topic, group) == b"by the admin"
    with pytest.raises(TopicAuthorizationFailedError):
        await read_one(agency, topics.dead_letters, group)  # operations only
    producer = AIOKafkaProducer(**agency.aiokafka_options())
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            async with asyncio.timeout(BOUND):
                await producer.send_and_wait(topics.activities, b"forged activity.recorded")
    finally:
        await producer.stop()
    with pytest.raises(GroupAuthorizationFailedError):
        await read_one(agency, topics.activities, group="statistics-office")
    print(f"{AGENCY}: reads {topics.registry}, {topics.activities} in group {group}; refused: "
          "the dead letters, writing, and a consumer group outside its prefix")  # fmt: skip


async def test_a_client_without_credentials_cannot_connect(users: Endpoints) -> None:
    plaintext = KafkaAccess(users.kafka_bootstrap_servers, security_protocol="PLAINTEXT")
    producer = AIOKafkaProducer(**plaintext.aiokafka_options(), request_timeout_ms=5_000)
    try:
        with pytest.raises(KafkaConnectionError):
            async with asyncio.timeout(BOUND):
                await producer.start()
    finally:
        await producer.stop()
    with pytest.raises(KafkaUnreachable, match=r"PLAINTEXT client.*KAFKA_SECURITY_PROTOCOL"):
        await plaintext.check(seconds=BOUND)
    print("no credentials (PLAINTEXT): the broker closes the connection")


async def test_a_wrong_password_is_refused_with_a_message_naming_the_user(
    users: Endpoints,
) -> None:
    wrong = "not-the-agency-password"
    access = KafkaAccess(users.kafka_bootstrap_servers, sasl_username=AGENCY,
                         sasl_password=SecretStr(wrong))  # fmt: skip
    consumer = AIOKafkaConsumer(**access.aiokafka_options(), request_timeout_ms=5_000)
    try:
        with pytest.raises(KafkaConnectionError):
            async with asyncio.timeout(BOUND):
                await consumer.start()
    finally:
        await consumer.stop()
    with pytest.raises(KafkaRefused) as refused:
        await access.check(seconds=BOUND)
    message = str(refused.value)
    assert f"user '{AGENCY}'" in message
    assert "KAFKA_SASL_PASSWORD" in message
    assert wrong not in message
    assert wrong not in repr(access)
    print(f"wrong password: {message}")


async def test_a_service_refused_by_the_broker_does_not_start_and_says_why(
    users: Endpoints,
) -> None:
    settings = Settings(
        database_url=users.database_url,
        **{**users.kafka_settings("registry"), "kafka_sasl_password": "stale-password"},
    )
    app = create_service_app(settings, title="t", description="t").app
    with pytest.raises(KafkaRefused, match="user 'registry'") as refused:
        async with asyncio.timeout(BOUND), serve(app):
            pass
    assert "stale-password" not in str(refused.value)
    print(f"a service with a stale password stops at start: {refused.value}")


@dataclass(frozen=True)
class Duty:
    user: str
    writes: tuple[str, ...]  # fields of Topics
    reads: tuple[str, ...]
    refused: str  # a topic it must not write


DUTIES = [
    Duty("registry", writes=("registry",), reads=(), refused="activities"),
    Duty("activities", ("activities", "dead_letters"), reads=("registry",), refused="registry"),
    Duty("reporting", ("dead_letters",), reads=("registry", "activities"), refused="activities"),
]


@pytest.mark.parametrize("duty", DUTIES, ids=lambda duty: duty.user)
async def test_each_service_writes_its_own_topic_and_reads_what_it_consumes(
    users: Endpoints, topics: Topics, duty: Duty
) -> None:
    kafka = users.kafka(duty.user)
    for field in duty.writes:
        await write(kafka, getattr(topics, field))
    for field in duty.reads:
        group = f"{duty.user}.{field}-view-{uuid.uuid4().hex[:6]}"  # as the consumers name them
        assert await read_one(kafka, getattr(topics, field), group) == b"by the admin"
    with pytest.raises(TopicAuthorizationFailedError):
        await write(kafka, getattr(topics, duty.refused))
    if not duty.reads:
        with pytest.raises(TopicAuthorizationFailedError):
            await read_one(kafka, topics.activities, group=f"{duty.user}.none")
    print(f"{duty.user}: writes {list(duty.writes)}, reads {list(duty.reads)}; "
          f"refused: writing {duty.refused}")  # fmt: skip
