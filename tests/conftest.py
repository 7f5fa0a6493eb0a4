"""One real Kafka broker and one real PostgreSQL server per test session.

They come from `shared.devstack.provided_endpoints`: the environment, else
testcontainers, else the local stack. Each test gets its own schema and topic names, so
tests cannot see each other's rows or messages. Callers sign in with tokens of a local
issuer (`shared.devstack.signing`) that the services are set to trust; the tests that sign
in at the real Keycloak ask for `keycloak_issuer`, so a session without them does not
start it.
"""

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine
from shared.devstack import Endpoints, LocalStack, provided_endpoints
from shared.devstack.signing import LocalIssuer, local_issuer
from shared.migrations import upgrade
from tests.kafka_reading import create_topic


@pytest.fixture(scope="session")
def endpoints() -> Iterator[Endpoints]:
    with provided_endpoints() as provided:
        yield provided


@pytest.fixture(scope="session")
def issuer() -> Iterator[LocalIssuer]:
    """The test session's token issuer (its own signing key; Keycloak's tokens are tested
    in `tests/integration/test_keycloak.py`)."""
    with local_issuer() as serving:
        yield serving


@pytest.fixture(scope="session")
def keycloak_issuer() -> Iterator[str]:
    """`AUTH_ISSUER` when set; else the local stack's Keycloak with the realm file, started
    for this session (and stopped after it) unless it was running already."""
    if issuer := os.environ.get("AUTH_ISSUER"):
        yield issuer
        return
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.fail("the local Keycloak needs Java and Maven (or set AUTH_ISSUER)")
    stack = LocalStack()
    issuer, started = stack.start_keycloak()
    yield issuer
    if started:
        stack.stop_keycloak()


@pytest.fixture
def schema() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def engine(endpoints: Endpoints, schema: str) -> AsyncIterator[AsyncEngine]:
    """A fresh schema migrated with the services' plumbing revision, dropped afterwards."""
    await asyncio.to_thread(upgrade, "registry", endpoints.database_url, schema)
    engine = create_engine(endpoints.database_url, schema, pool_size=20)
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


@pytest.fixture
async def topic(endpoints: Endpoints) -> str:
    return await create_topic(endpoints.kafka())


@pytest.fixture
async def broker(endpoints: Endpoints) -> AsyncIterator[KafkaBroker]:
    broker = KafkaBroker(
        **endpoints.kafka().faststream_options(),
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
    )
    await broker.start()
    yield broker
    await broker.stop()
