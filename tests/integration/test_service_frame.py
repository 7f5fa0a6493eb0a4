"""The frame every service runs in: health, readiness, metrics, and the relay it starts."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.config import Settings
from shared.devstack import Endpoints, LocalStack
from shared.devstack.processes import free_port
from shared.eventstore import append
from shared.metrics import scraped
from shared.service import CORRELATION_HEADER, create_service_app
from tests.factories import new_event
from tests.http import serve
from tests.kafka_reading import read_records


@pytest.fixture
async def running(
    endpoints: Endpoints, schema: str, engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """The registry's frame on this test's schema, started with its real lifespan."""
    settings = Settings(
        database_url=endpoints.database_url,
        database_schema=schema,
        **endpoints.kafka_settings(),
        outbox_poll_seconds=0.05,
    )
    app = create_service_app(settings, title="t", description="t").app
    async with serve(app) as client:
        yield client


async def test_ready_when_database_and_broker_answer(running: httpx.AsyncClient) -> None:
    alive = await running.get("/healthz")
    ready = await running.get("/readyz")
    assert alive.json() == {"status": "alive"}
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "kafka": "ok", "pipelines": "ok"},
    }


async def test_not_ready_when_the_database_is_unreachable(endpoints: Endpoints) -> None:
    settings = Settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/ketnghia",
        **endpoints.kafka_settings(),
    )
    app = create_service_app(settings, title="t", description="t").app
    async with serve(app) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "unreachable", "kafka": "ok", "pipelines": "ok"}


@pytest.mark.skipif(
    bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")),
    reason="stops and restarts the broker, which needs the local stack",
)
async def test_not_ready_while_the_broker_is_down_and_ready_again_after(
    running: httpx.AsyncClient,
) -> None:
    stack = LocalStack()
    kafka_pid = stack.state().kafka_pid
    assert kafka_pid is not None
    assert (await running.get("/readyz")).status_code == 200

    await asyncio.to_thread(stack.kafka.stop, kafka_pid)
    try:
        down = await running.get("/readyz")
    finally:
        await asyncio.to_thread(stack.up)  # on the same port, with its data
    for _attempt in range(30):  # the client reconnects on its own
        again = await running.get("/readyz")
        if again.status_code == 200:
            break
        await asyncio.sleep(1)

    assert down.status_code == 503
    assert down.json()["checks"] == {"database": "ok", "kafka": "unreachable", "pipelines": "ok"}
    assert again.status_code == 200


async def test_events_appended_by_a_command_reach_kafka_through_the_service_relay(
    running: httpx.AsyncClient, engine: AsyncEngine, endpoints: Endpoints, topic: str
) -> None:
    async with engine.begin() as conn:
        [stored] = await append(conn, "assignment-9", 0, [new_event("commune-22945")], topic=topic)

    [record] = await read_records(endpoints.kafka(), topic, expected=1)

    assert dict(record.headers)["ce_id"] == str(stored.event_id).encode()
    assert dict(record.headers)["ce_source"] == b"/ketnghia/registry"

    async def published() -> list[float]:  # the topic is this test's own
        exposed = scraped((await running.get("/metrics")).text)
        series = exposed.get("ketnghia_outbox_published_total", [])
        return [sample.value for sample in series if sample.labels == {"topic": topic}]

    for _attempt in range(50):  # the relay counts after its commit, just after the send
        if await published():
            break
        await asyncio.sleep(0.1)
    assert await published() == [1.0]


async def test_a_request_returns_the_callers_correlation_id(running: httpx.AsyncClient) -> None:
    mine = str(uuid.uuid4())
    response = await running.get("/healthz", headers={CORRELATION_HEADER: mine})
    assert response.headers[CORRELATION_HEADER] == mine


async def test_a_correlation_id_that_is_not_a_uuid_is_replaced(
    running: httpx.AsyncClient,
) -> None:
    """Events carry correlation ids as UUIDs (the contract), so the request gets a new one."""
    response = await running.get("/healthz", headers={CORRELATION_HEADER: "abc-123"})
    assert uuid.UUID(response.headers[CORRELATION_HEADER]).version == 4
