"""The common frame of every service's HTTP app: logging, the Kafka router and broker,
the outbox relay, `/healthz`, `/readyz`, `/metrics` and request metrics.

A service's `entrypoints/http.py` calls `create_service_app()` and adds its own routes.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Request, Response
from faststream.kafka.fastapi import KafkaRouter
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import create_engine
from shared.health import health_router
from shared.logs import configure_logging
from shared.metrics import observe_request
from shared.outbox import OutboxRelay, publishing_broker
from shared.settings import ServiceSettings

CORRELATION_HEADER = "X-Correlation-ID"
log = structlog.get_logger(__name__)


@dataclass
class ServiceParts:
    """What a service's routes and consumers need from the frame."""

    app: FastAPI
    engine: AsyncEngine
    kafka: KafkaRouter
    relay: OutboxRelay


def create_service_app(settings: ServiceSettings, *, title: str, description: str) -> ServiceParts:
    configure_logging(settings.service_name, settings.log_level)
    engine = create_engine(settings.database_url, settings.database_schema)
    client_id = f"ketnghia-{settings.service_name}"
    prometheus = KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name)
    kafka = KafkaRouter(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        middlewares=[prometheus],
        schema_url="/asyncapi",
        include_in_schema=True,
    )
    relay = OutboxRelay(
        engine,
        lambda: publishing_broker(settings.kafka_bootstrap_servers, client_id, [prometheus]),
        source=f"/ketnghia/{settings.service_name}",
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
    )
    stop_relay = asyncio.Event()
    relay_task: list[asyncio.Task[None]] = []

    @kafka.after_startup
    async def start_relay(_app: FastAPI) -> None:
        relay_task.append(asyncio.create_task(relay.run(stop_relay), name="outbox-relay"))

    @kafka.on_broker_shutdown
    async def stop(_app: FastAPI) -> None:
        stop_relay.set()
        await asyncio.gather(*relay_task, return_exceptions=True)
        await engine.dispose()

    app = FastAPI(title=title, description=description)
    app.state.engine = engine
    app.include_router(kafka)
    app.include_router(health_router(engine, kafka.broker))
    app.add_api_route("/metrics", metrics, include_in_schema=False)
    app.middleware("http")(observe_request)
    app.middleware("http")(bind_correlation_id)
    return ServiceParts(app=app, engine=engine, kafka=kafka, relay=relay)


async def _connection(request: Request) -> AsyncIterator[AsyncConnection]:
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as conn:
        yield conn


Connection = Annotated[AsyncConnection, Depends(_connection)]
"""A database connection of the service's engine, for a route's parameters."""


def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def bind_correlation_id(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Take the caller's correlation id (or make one), log with it, and return it."""
    correlation_id = request.headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
    response = await call_next(request)
    response.headers[CORRELATION_HEADER] = correlation_id
    if request.url.path not in ("/healthz", "/readyz", "/metrics"):
        log.info(
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
        )
    return response
