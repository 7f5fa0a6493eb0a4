"""Every route of every service answers 401 without a token, except the few that are open
to the infrastructure and to readers of the API's documentation: so a route added later
without the sign-in cannot go unnoticed. (Which scope each route asks for is the access
matrix's job: tests/integration/test_access.py.)"""

import importlib
import re

import httpx
import pytest
from fastapi import FastAPI

from shared.migrations import SERVICES

OPEN = {"/healthz", "/readyz", "/metrics", "/asyncapi.json", "/docs", "/docs/oauth2-redirect",
        "/redoc", "/openapi.json"}  # fmt: skip


def app_of(service: str) -> FastAPI:
    """The service's app, built on settings that reach nothing (no request gets that far)."""
    settings = importlib.import_module(f"services.{service}.config").Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        kafka_bootstrap_servers="127.0.0.1:1",
        kafka_security_protocol="PLAINTEXT",
    )
    app: FastAPI = importlib.import_module(f"services.{service}.entrypoints.http").create_app(
        settings
    )
    return app


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_but_the_open_ones_asks_for_a_token(service: str) -> None:
    app = app_of(service)
    routes = app.openapi()["paths"]  # every route the service documents
    checked, opened = [], []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://service",
    ) as client:
        for route, methods in routes.items():
            path = re.sub(r"\{[^}]+\}", "60", route)
            for method in sorted(methods):
                answer = await client.request(method.upper(), path)
                if route in OPEN:
                    opened.append(route)
                    continue
                assert answer.status_code == 401, f"{method} {route}: {answer.status_code}"
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
                checked.append(f"{method} {route}")

    print(f"{service}: {len(checked)} routes ask for a token; open: {sorted(set(opened))}")
    assert len(checked) >= 5
