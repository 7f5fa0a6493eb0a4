"""The common frame of every service's HTTP app: logging, the Kafka broker, the outbox
relay, `/healthz`, `/readyz`, `/metrics` and request metrics.

The broker is faststream's plain `KafkaBroker`, started and stopped by the app's lifespan:
faststream's FastAPI integration (`faststream.kafka.fastapi`) is deprecated, and nothing
here needs FastAPI's dependency injection in a consumer.

A service's `entrypoints/http.py` calls `create_service_app()` and adds its own routes.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import consistency, validation
from shared.answers import PROBLEMS
from shared.auth import (
    Forbidden,
    IdentityProviderUnavailable,
    Principal,
    TokenVerifier,
    Unauthenticated,
)
from shared.bounds import MAX_UPLOAD_BYTES, MAX_VERSION
from shared.db import create_engine
from shared.errors import NotFound, Refused, RuleViolation
from shared.eventstore import ConcurrencyConflict
from shared.guard import BoundedRequests
from shared.health import health_router
from shared.jobs import Jobs
from shared.kafka_security import KafkaUnreachable
from shared.logs import configure_logging
from shared.metrics import observe_request
from shared.outbox import OutboxRelay, relay_producer
from shared.settings import ServiceSettings

CORRELATION_HEADER = "X-Correlation-ID"
log = structlog.get_logger(__name__)


@dataclass
class ServiceParts:
    """What a service's routes and consumers need from the frame."""

    app: FastAPI
    engine: AsyncEngine
    kafka: KafkaBroker
    relay: OutboxRelay
    jobs: Jobs

    def include(self, router: APIRouter) -> None:
        """Serve `router`'s routes to signed-in callers only (a 401 otherwise), after the
        caller's earlier writes elsewhere have reached this service (`shared.consistency`)."""
        self.app.include_router(router, dependencies=[Depends(_caller), consistency.Consistent])


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    upload_paths: tuple[str, ...] = (),
    upload_limit: int = MAX_UPLOAD_BYTES,
) -> ServiceParts:
    """The frame every service shares; `upload_paths` take a body up to `upload_limit`
    (other bodies: `MAX_BODY_BYTES`, see `shared.guard`)."""
    configure_logging(settings.service_name, settings.log_level)
    engine = create_engine(
        settings.database_url, settings.database_schema, pool_size=settings.database_pool_size
    )
    client_id = f"ketnghia-{settings.service_name}"
    prometheus = KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name)
    kafka = KafkaBroker(
        **settings.kafka.faststream_options(),
        client_id=client_id,
        middlewares=[prometheus],
        # faststream's per-message lines go through the JSON logging, not its own handler.
        logger=logging.getLogger(f"ketnghia.{settings.service_name}.kafka"),
    )
    # The AsyncAPI document only, as `GET /asyncapi.json`: no faststream pages (they load
    # scripts from a CDN; its `POST /asyncapi/try` would publish any message to any topic
    # with the service's credentials and no sign-in).
    asyncapi = AsyncAPI(kafka, title=f"ketnghia {settings.service_name}", version="1")
    relay = OutboxRelay(
        engine,
        lambda: relay_producer(settings.kafka, client_id),
        source=f"/ketnghia/{settings.service_name}",
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        listen=settings.outbox_listen,
    )
    stop_relay = asyncio.Event()
    jobs = Jobs()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A refused login fails the start with a message naming the user (the clients
        # themselves would only say "Unable to bootstrap").
        try:
            with contextlib.suppress(KafkaUnreachable):  # the broker's own start reports it
                await settings.kafka.check()
            await kafka.start()
            try:
                relay_task = asyncio.create_task(relay.run(stop_relay), name="outbox-relay")
                try:
                    yield
                finally:
                    try:
                        await jobs.stop()  # first: what a job records still gets published
                    finally:
                        stop_relay.set()
                        await asyncio.gather(relay_task, return_exceptions=True)
            finally:
                await kafka.stop()
        finally:
            await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        docs_url=None,
        redoc_url=None,
        responses=PROBLEMS,
        lifespan=lifespan,
    )
    serve_docs(app)
    app.state.engine = engine
    app.state.jobs = jobs
    app.state.verifier = TokenVerifier(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience or f"ketnghia-{settings.service_name}",
        jwks_url=settings.auth_jwks_url,
        leeway_seconds=settings.auth_leeway_seconds,
    )
    app.state.settings = settings
    app.state.asyncapi = asyncapi  # for the published documents (`shared.contract_docs`)
    app.add_api_route("/asyncapi.json", _asyncapi(asyncapi), include_in_schema=False)
    app.include_router(health_router(engine, kafka))
    app.add_api_route("/metrics", metrics, include_in_schema=False)
    app.state.consumed_topics = frozenset(settings.consumed_topics)
    app.add_middleware(RequestFrame)
    app.add_middleware(BoundedRequests, upload_paths=upload_paths, upload_limit=upload_limit)
    for error, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(error, handler)
    return ServiceParts(app=app, engine=engine, kafka=kafka, relay=relay, jobs=jobs)


SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"


def serve_docs(app: FastAPI) -> None:
    """`/docs` from the service's own copy of Swagger UI (`shared/static/swagger-ui`), not
    a CDN: the page works on a provincial network without internet."""
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )

    app.add_api_route("/docs", docs, include_in_schema=False)


async def _connection(request: Request) -> AsyncIterator[AsyncConnection]:
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as conn:
        yield conn


Connection = Annotated[AsyncConnection, Depends(_connection)]
"""A database connection of the service's engine, for a route's parameters."""


async def _snapshot(request: Request) -> AsyncIterator[AsyncConnection]:
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as conn:
        snapshot = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with snapshot.begin():
            yield snapshot


Snapshot = Annotated[AsyncConnection, Depends(_snapshot)]
"""A connection in one REPEATABLE READ transaction: every figure of a report is read from
the same moment, so its totals and its breakdowns always agree while consumers write."""


_bearer = HTTPBearer(
    auto_error=False,
    description="Access token của Keycloak / a Keycloak access token (`ketnghia login`)",
)


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The signed-in caller, from the request's bearer token (verified once per request)."""
    if credentials is None:
        raise Unauthenticated(
            "chưa đăng nhập: thiếu Bearer token / not signed in: no bearer token",
            token_sent=False,
        )
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(credentials.credentials)
    structlog.contextvars.bind_contextvars(actor=principal.subject)
    return principal


Caller = Annotated[Principal, Depends(_caller)]
"""Who calls, verified: the service layer checks what they may do (`access.py`)."""


async def _correlation_id(request: Request) -> uuid.UUID:
    correlation_id: uuid.UUID = request.state.correlation_id
    return correlation_id


CorrelationId = Annotated[uuid.UUID, Depends(_correlation_id)]
"""The request's correlation id, which the events it causes carry."""


def _asyncapi(document: AsyncAPI) -> Callable[[], Awaitable[JSONResponse]]:
    async def asyncapi() -> JSONResponse:
        """The service's AsyncAPI document: the topics it publishes and consumes."""
        return JSONResponse(document.to_specification().to_jsonable())

    return asyncapi


def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class RequestFrame:
    """What every request passes through, as one plain ASGI middleware: the caller's
    correlation id (a UUID; else one is made) bound to the request's logs and returned in
    its answer, a write's consistency token (`shared.consistency`), the request's metrics
    and its log line. Starlette's `BaseHTTPMiddleware`, which this replaces, ran each
    request in a task group with memory streams: most of a `GET /healthz`'s time."""

    QUIET = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = _parse_uuid(Headers(scope=scope).get(CORRELATION_HEADER))
        correlation_id = sent or uuid.uuid4()
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=str(correlation_id))
        status = 500  # unless the application answers
        with consistency.collecting() as written:

            async def framed(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = MutableHeaders(scope=message)
                    headers[CORRELATION_HEADER] = str(correlation_id)
                    if (made := consistency.token(written, status)) is not None:
                        headers[consistency.HEADER] = made
                await send(message)

            try:
                await self.app(scope, receive, framed)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                observe_request(scope["method"], route, status, time.perf_counter() - started)
                if scope["path"] not in self.QUIET:
                    log.info("request", method=scope["method"], path=scope["path"], status=status)


def _parse_uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


async def _rule_violation(_request: Request, error: Exception) -> JSONResponse:
    """422 in the shape of FastAPI's own validation errors, so clients read one format."""
    assert isinstance(error, RuleViolation)
    location = [error.location, *error.field.split(".")]
    detail = [{"type": "rule_violation", "loc": location, "msg": str(error)}]
    return JSONResponse({"detail": detail}, status_code=422)


async def _not_found(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=404)


async def _database_refused(_request: Request, error: Exception) -> JSONResponse:
    """A value PostgreSQL cannot hold (SQLSTATE class 22: a NUL character, a number past
    its column's range) is the caller's input: a 422, and its transaction rolled back, so
    nothing of it is written. Any other database error stays a 500."""
    assert isinstance(error, DBAPIError)
    state = str(getattr(error.orig, "sqlstate", "") or "")
    if not state.startswith("22"):
        log.error("database_error", sqlstate=state, error=type(error.orig).__name__)
        return JSONResponse({"detail": "lỗi máy chủ / internal error"}, status_code=500)
    detail = [{
        "type": "value_not_storable",
        "loc": ["body"],
        "msg": "có giá trị không lưu được: quá lớn, hoặc chứa ký tự NUL (\\u0000) / a value "
        "cannot be stored: it is too large, or it contains a NUL character",
    }]  # fmt: skip
    return JSONResponse({"detail": detail}, status_code=422)


async def _refused(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=409)


async def _concurrency_conflict(_request: Request, error: Exception) -> JSONResponse:
    """409 with the version the caller should reload, also as the ETag."""
    assert isinstance(error, ConcurrencyConflict)
    body: dict[str, object] = {
        "detail": "Dữ liệu đã bị người khác thay đổi, hãy tải lại / "
        f"changed by someone else, reload and retry: {error}",
        "current_version": error.actual_version,
    }
    headers = {} if error.actual_version is None else {"ETag": etag(error.actual_version)}
    return JSONResponse(body, status_code=409, headers=headers)


async def _unauthenticated(_request: Request, error: Exception) -> JSONResponse:
    """401 with the challenge RFC 6750 asks for; a token that was sent but refused is an
    `invalid_token`."""
    assert isinstance(error, Unauthenticated)
    challenge = 'Bearer realm="ketnghia"' + (', error="invalid_token"' if error.token_sent else "")
    return JSONResponse(
        {"detail": str(error)}, status_code=401, headers={"WWW-Authenticate": challenge}
    )


async def _forbidden(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Forbidden)
    return JSONResponse({"detail": str(error), "missing_scope": error.scope}, status_code=403)


async def _provider_unavailable(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})


async def _not_yet_consistent(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "1"})


ERROR_HANDLERS = {
    DBAPIError: _database_refused,
    RequestValidationError: validation.request_invalid,
    Unauthenticated: _unauthenticated,
    Forbidden: _forbidden,
    IdentityProviderUnavailable: _provider_unavailable,
    consistency.NotYetConsistent: _not_yet_consistent,
    RuleViolation: _rule_violation,
    NotFound: _not_found,
    Refused: _refused,
    ConcurrencyConflict: _concurrency_conflict,
}


def etag(version: int) -> str:
    """An aggregate's version as an HTTP entity tag; `If-Match` sends it back."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header names (`"3"`, `W/"3"` or `3`); None when absent."""
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    # ASCII digits only (str.isdigit() also takes "²", which int() refuses, and "٣"), and
    # no more of them than a version has.
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_VERSION))):
        raise RuleViolation(
            "If-Match",
            f'If-Match phải là số phiên bản như "3" / must be a version like "3": {if_match!r}',
            location="header",
        )
    return int(text)


async def _if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    return expected_version(if_match)


IfMatch = Annotated[int | None, Depends(_if_match)]
"""The version the caller last read (`If-Match: "3"`); without it, the current one."""
