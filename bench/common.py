"""What the benchmarks share: a service served by uvicorn in a child process on a schema
and topics of its own, trusting a local token issuer, the clients that sign in there, and
percentiles."""

import asyncio
import atexit
import functools
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from sqlalchemy import text

from shared.db import create_engine
from shared.devstack import Endpoints
from shared.devstack.processes import free_port, wait_until
from shared.devstack.signing import OPERATIONS, LocalIssuer, local_issuer
from shared.envelope import Envelope
from shared.kafka_security import KafkaAccess
from shared.migrations import upgrade

_running = ExitStack()
# Closed before the interpreter's end: left to the garbage collector, the issuer's server
# would wait for its thread, already gone, for ever.
atexit.register(_running.close)


@functools.cache
def issuer() -> LocalIssuer:
    """The benchmark's token issuer, serving its keys until the process ends."""
    return _running.enter_context(local_issuer())


def signed_client(url: str, **options: Any) -> httpx.AsyncClient:
    """A client of a benchmarked service, signed in as the operations account."""
    return httpx.AsyncClient(base_url=url, auth=issuer().auth(OPERATIONS), **options)


STARTED: dict[str, "subprocess.Popen[bytes]"] = {}
"""The services `service_process` runs, by URL."""


@contextmanager
def service_process(
    service: str, endpoints: Endpoints, uvicorn: Any = None, **settings: str
) -> Iterator[str]:
    """`service` on a free port with `settings` as its environment and `uvicorn`'s options
    (`{"workers": 2, "loop": "uvloop"}`) on uvicorn's command line; yields its URL (its
    process is `STARTED[url]` meanwhile, for a drill that kills it)."""
    port = free_port()
    environment = {
        **os.environ,
        **endpoints.environment(),  # Kafka as the admin: the benchmarks' topics vary
        "LOG_LEVEL": "WARNING",
        "AUTH_ISSUER": issuer().issuer,
        "AUTH_JWKS_URL": issuer().jwks_url,
        **{name.upper(): value for name, value in settings.items()},
    }
    app = f"services.{service}.entrypoints.http:create_app"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
            *(f"--{name}={value}" for name, value in (uvicorn or {}).items()),
            app,
        ],
        env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    STARTED[url] = server
    try:
        if not wait_until(lambda: _ready(url), timeout=60):
            raise RuntimeError(f"the {service} service did not become ready")
        yield url
    finally:
        STARTED.pop(url, None)
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # it holds database locks the clean-up waits for
            server.kill()
            server.wait(10)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


async def drop_schemas(database_url: str, *schemas: str) -> None:
    """What a benchmark made in the database, gone."""
    engine = create_engine(database_url, "public")
    try:
        async with engine.begin() as conn:
            for schema in schemas:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(len(ordered) * 0.95)]
    return f"p50 {statistics.median(ordered):7.2f}   p95 {p95:7.2f}   max {ordered[-1]:7.2f}"


SERVICES = ("registry", "activities", "reporting")


async def fresh_places(endpoints: Endpoints, prefix: str) -> tuple[dict[str, str], dict[str, str]]:
    """A schema of its own for each service, migrated, and topics of their own (by setting
    name: `registry_topic`, `activities_topic`, `dead_letter_topic`)."""
    tag = uuid.uuid4().hex[:8]
    schemas = {s: f"{prefix}_{s[:3]}_{tag}" for s in SERVICES}
    topics = {
        "registry_topic": f"{prefix}.registry.{tag}",
        "activities_topic": f"{prefix}.act.{tag}",
        "dead_letter_topic": f"{prefix}.dead.{tag}",
    }
    for service, schema in schemas.items():
        await asyncio.to_thread(upgrade, service, endpoints.database_url, schema)
    return schemas, topics


@asynccontextmanager
async def three_services(
    endpoints: Endpoints, keep: bool = False, **settings: str
) -> AsyncIterator[tuple[dict[str, str], dict[str, str], dict[str, str]]]:
    """The three services in child processes, on schemas and topics of their own (dropped
    afterwards, unless `keep`), with `settings` besides; yields their URLs and their
    schemas, by service, and the topics by setting name (`activities_topic`, ...)."""
    schemas, topics = await fresh_places(endpoints, "bench")
    try:
        with ExitStack() as running:
            urls = {
                service: running.enter_context(
                    service_process(
                        service, endpoints, database_schema=schemas[service], **topics, **settings
                    )
                )
                for service in SERVICES
            }
            yield urls, schemas, topics
    finally:
        if keep:
            print(f"kept: schemas {', '.join(schemas.values())}")
        else:
            await drop_schemas(endpoints.database_url, *schemas.values())


async def publish(kafka: KafkaAccess, topic: str, envelopes: Iterable[Envelope]) -> float:
    """Every envelope onto `topic` (made with 3 partitions if missing), keyed by its
    partition key, batched and acknowledged by all replicas; the seconds it took."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        **kafka.aiokafka_options(), acks="all", linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for event in envelopes:
            message = event.to_kafka()
            pending.append(
                await producer.send(
                    topic,
                    message.value,
                    key=event.partitionkey.encode(),
                    headers=list(message.headers.items()),
                )
            )
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started
