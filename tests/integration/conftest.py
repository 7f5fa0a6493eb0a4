"""The services as integration tests use them, once per test module: each in a schema of
its own on the real PostgreSQL server, with topics of its own on the real broker, served
in-process with its real lifespan (Kafka router, subscribers, outbox relay).

They connect to Kafka as the broker's admin: their topics have random names, which the
services' own ACLs (for the `ketnghia.` topics) do not cover; `test_kafka_security` holds
each service's user to what it must and must not do on the real topics.

The registry's schema is loaded with both editions of the administrative units (2-3 s,
so once per module). Tests make their own programmes and activities, so they do not
depend on each other's rows.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_delay, wait_fixed

from services.activities.adapters.tables import activities as activities_table
from services.activities.adapters.tables import known_assignments
from services.activities.config import Settings as ActivitiesSettings
from services.activities.demo import load_demo as load_activities_demo
from services.activities.entrypoints.http import create_app as create_activities_app
from services.registry.adapters.admin_dataset import AdminDataset, load_dataset
from services.registry.config import Settings
from services.registry.demo import Tally, load_demo
from services.registry.entrypoints.http import create_app
from services.registry.service_layer.admin_units import load_admin_units, publish_lineage
from services.registry.service_layer.projection import project
from services.reporting.adapters.tables import activity_versions, successions
from services.reporting.config import Settings as ReportingSettings
from services.reporting.entrypoints.http import create_app as create_reporting_app
from shared.db import create_engine
from shared.devstack import Endpoints
from shared.devstack.signing import LocalIssuer, Trust
from shared.eventstore import Recorder
from shared.migrations import upgrade
from shared.settings import ServiceSettings
from tests.http import listening, serve
from tests.kafka_reading import create_topic


@pytest.fixture(scope="module")
def trust(issuer: LocalIssuer) -> Trust:
    """Whom the module's services trust: the local issuer (a module may name Keycloak)."""
    return issuer.trust()


@pytest.fixture(scope="session")
def dataset() -> AdminDataset:
    return load_dataset()


@asynccontextmanager
async def migrated(service: str, settings: ServiceSettings) -> AsyncIterator[AsyncEngine]:
    """The service's schema at its newest migration, dropped afterwards."""
    url, schema = settings.database_url, settings.database_schema
    await asyncio.to_thread(upgrade, service, url, schema)
    engine = create_engine(url, schema, pool_size=5)
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()


def new_schema() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
async def registry_settings(endpoints: Endpoints, trust: Trust) -> Settings:
    return Settings(
        auth_issuer=trust.issuer,
        auth_jwks_url=trust.jwks_url,
        database_url=endpoints.database_url,
        database_schema=new_schema(),
        **endpoints.kafka_settings(),
        registry_topic=await create_topic(endpoints.kafka()),
        outbox_poll_seconds=0.05,
    )


@pytest.fixture(scope="module")
async def registry_engine(
    registry_settings: Settings, dataset: AdminDataset
) -> AsyncIterator[AsyncEngine]:
    async with migrated("registry", registry_settings) as engine:
        async with engine.begin() as conn:
            await load_admin_units(conn, dataset)
        yield engine


@pytest.fixture(scope="module")
def registry_app(registry_settings: Settings) -> FastAPI:
    return create_app(registry_settings)


@pytest.fixture(scope="module")
async def registry(
    registry_app: FastAPI, registry_engine: AsyncEngine, trust: Trust
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(registry_app, trust.operations) as client:
        yield client


@pytest.fixture(scope="module")
async def registry_url(registry_app: FastAPI, registry: httpx.AsyncClient) -> AsyncIterator[str]:
    """The registry on a real port too (its lifespan is the `registry` one)."""
    async with listening(registry_app) as url:
        yield url


@pytest.fixture(scope="module")
async def activities_settings(
    endpoints: Endpoints, registry_settings: Settings, trust: Trust
) -> ActivitiesSettings:
    return ActivitiesSettings(
        auth_issuer=trust.issuer,
        auth_jwks_url=trust.jwks_url,
        database_url=endpoints.database_url,
        database_schema=new_schema(),
        **endpoints.kafka_settings(),
        registry_topic=registry_settings.registry_topic,
        activities_topic=await create_topic(endpoints.kafka()),
        outbox_poll_seconds=0.05,
    )


@pytest.fixture(scope="module")
async def activities_engine(activities_settings: ActivitiesSettings) -> AsyncIterator[AsyncEngine]:
    async with migrated("activities", activities_settings) as engine:
        yield engine


@pytest.fixture(scope="module")
def activities_app(activities_settings: ActivitiesSettings) -> FastAPI:
    return create_activities_app(activities_settings)


@pytest.fixture(scope="module")
async def activities(
    activities_app: FastAPI, activities_engine: AsyncEngine, trust: Trust
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(activities_app, trust.operations) as client:
        yield client


@pytest.fixture(scope="module")
async def activities_url(
    activities_app: FastAPI, activities: httpx.AsyncClient
) -> AsyncIterator[str]:
    """The activities service on a real port too (its lifespan is the `activities` one)."""
    async with listening(activities_app) as url:
        yield url


@pytest.fixture(scope="module")
async def reporting_settings(
    endpoints: Endpoints, activities_settings: ActivitiesSettings, trust: Trust
) -> ReportingSettings:
    return ReportingSettings(
        auth_issuer=trust.issuer,
        auth_jwks_url=trust.jwks_url,
        database_url=endpoints.database_url,
        database_schema=new_schema(),
        **endpoints.kafka_settings(),
        registry_topic=activities_settings.registry_topic,
        activities_topic=activities_settings.activities_topic,
        dead_letter_topic=await create_topic(endpoints.kafka()),
    )


@pytest.fixture(scope="module")
async def reporting_engine(reporting_settings: ReportingSettings) -> AsyncIterator[AsyncEngine]:
    async with migrated("reporting", reporting_settings) as engine:
        yield engine


@pytest.fixture(scope="module")
def reporting_app(reporting_settings: ReportingSettings) -> FastAPI:
    return create_reporting_app(reporting_settings)


@pytest.fixture(scope="module")
async def reporting(
    reporting_app: FastAPI, reporting_engine: AsyncEngine, trust: Trust
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(reporting_app, trust.operations) as client:
        yield client


@pytest.fixture(scope="module")
async def reporting_url(reporting_app: FastAPI, reporting: httpx.AsyncClient) -> AsyncIterator[str]:
    """The reporting service on a real port too (its lifespan is the `reporting` one)."""
    async with listening(reporting_app) as url:
        yield url


DEMO_ASSIGNMENTS = 17  # 16 on communes, and Tam Kỳ with huyện Nam Giang


@pytest.fixture(scope="module")
async def demo(
    registry: httpx.AsyncClient, activities: httpx.AsyncClient, activities_engine: AsyncEngine
) -> Tally:
    """The registry's demo cases, loaded through its API, once the activities service has
    heard of them all."""
    tally = await load_demo(registry)
    heard = 0
    for _attempt in range(300):
        async with activities_engine.connect() as conn:
            heard = await conn.scalar(select(func.count()).select_from(known_assignments)) or 0
        if heard == DEMO_ASSIGNMENTS:
            return tally
        await asyncio.sleep(0.1)
    raise AssertionError(f"the activities service heard of {heard} demo assignments")


LINEAGE = 10_035  # every pre-2025 commune


async def eventually(check: Callable[[], Any], timeout: float = 60) -> Any:
    """Poll `check` (an async callable) until it returns something truthy, and return it;
    fail the test, saying what it last returned, when `timeout` seconds pass first. An
    error `check` raises is the test's at once."""
    polling = AsyncRetrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.2),
        retry=retry_if_result(lambda found: not found),
    )

    async def checked() -> Any:  # `check` may be a lambda returning a coroutine
        return await check()

    try:
        return await polling(checked)
    except RetryError as timed_out:
        found = timed_out.last_attempt.result()
        raise AssertionError(
            f"{getattr(check, '__name__', check)} did not hold within {timeout:g} s; "
            f"it last returned {found!r:.300}"
        ) from None


async def caught_up(reporting_engine: AsyncEngine, activities_engine: AsyncEngine) -> bool:
    """Every activity the activities service recorded is in the reporting projection, and
    the lineage is. The projection may hold more: tests publish activity events straight
    onto the topic (the bounds test's 9,300), whichever order the tests run in."""
    async with activities_engine.connect() as conn:
        recorded = set((await conn.execute(select(activities_table.c.id))).scalars())
    async with reporting_engine.connect() as conn:
        versions = activity_versions.c
        projected = await conn.scalar(
            select(func.count(func.distinct(versions.activity_id))).where(
                versions.activity_id.in_(recorded)
            )
        )
        lineage = await conn.scalar(select(func.count()).select_from(successions))
    return bool(recorded) and projected == len(recorded) and lineage == LINEAGE


@pytest.fixture(scope="module")
async def loaded(
    registry_engine: AsyncEngine,
    registry_settings: Settings,
    activities: httpx.AsyncClient,
    activities_engine: AsyncEngine,
    reporting: httpx.AsyncClient,
    reporting_engine: AsyncEngine,
    demo: Tally,
    dataset: Any,
) -> None:
    """Lineage events, the registry's and the activities' demo, all projected."""
    async with registry_engine.begin() as conn:
        recorder = Recorder(conn, registry_settings.registry_topic, uuid.uuid4(), project)
        await publish_lineage(recorder, dataset)
    await load_activities_demo(activities)
    assert await eventually(lambda: caught_up(reporting_engine, activities_engine), 120)
