"""The web app's HTTP app (`uvicorn --factory services.web.entrypoints.http:create_app`)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from services.web.adapters.oidc import Provider
from services.web.config import Settings
from services.web.entrypoints import auth, pages, setup
from services.web.entrypoints.rendering import TEMPLATES, error_handlers
from services.web.service_layer.sessions import Sessions
from shared.auth import TokenVerifier
from shared.bounds import MAX_UPLOAD_BYTES
from shared.guard import BoundedRequests
from shared.logs import configure_logging

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.service_name, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.service_timeout_seconds)
        bases = {"registry": settings.registry_url, "activities": settings.activities_url,
                 "reporting": settings.reporting_url}  # fmt: skip
        clients = {name: httpx.AsyncClient(base_url=url, timeout=timeout)
                   for name, url in bases.items()}  # fmt: skip
        identity = httpx.AsyncClient(timeout=timeout)
        app.state.clients = clients
        app.state.provider = Provider(
            settings.auth_issuer, settings.auth_client_id,
            settings.auth_client_secret.get_secret_value(), identity,
        )  # fmt: skip
        yield
        for client in [*clients.values(), identity]:
            await client.aclose()

    app = FastAPI(title="Kết nghĩa (web)", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    app.state.settings = settings
    app.state.sessions = Sessions(settings.session_hours)
    app.state.verifier = TokenVerifier(
        issuer=settings.auth_issuer,
        # the web client's tokens name the three services; the reports' is the one read here
        audience="ketnghia-reporting",
        jwks_url=settings.auth_jwks_url,
        leeway_seconds=settings.auth_leeway_seconds,
    )
    app.state.templates = TEMPLATES
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(setup.router)
    for error, handler in error_handlers().items():
        app.add_exception_handler(error, handler)
    app.middleware("http")(_security_headers(settings))
    # a file a little over the limit gets the import page's own message, in its page
    app.add_middleware(BoundedRequests, upload_paths=("/import",),
                       upload_limit=MAX_UPLOAD_BYTES + 1024 * 1024)  # fmt: skip

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.add_api_route("/readyz", healthz, include_in_schema=False)
    return app


Next = Callable[[Request], Awaitable[Response]]


def _security_headers(settings: Settings) -> Callable[[Request, Next], Awaitable[Response]]:
    """Every page loads only what the app serves (no other host), and may not be framed;
    forms post here (and the sign-out goes on to the identity provider)."""
    provider = urlsplit(settings.auth_issuer)
    identity = f"{provider.scheme}://{provider.netloc}"
    policy = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"form-action 'self' {identity}; frame-ancestors 'none'; base-uri 'none'"
    )

    async def add(request: Request, call_next: Next) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):  # pages and files: never cached
            response.headers["Cache-Control"] = "no-store"
        return response

    return add
