"""Serving an app in-process, with its real lifespan, for HTTP tests."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from shared.devstack.processes import free_port


@asynccontextmanager
async def serve(app: FastAPI, auth: httpx.Auth | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its real lifespan (broker, relay), reached in-process over ASGI;
    requests signed in with `auth` unless a request names its own."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://service", auth=auth) as client,
    ):
        yield client


@asynccontextmanager
async def listening(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """An app already started (its lifespan entered by `serve`) on a real local port (a
    free one unless `port`), for clients that are not in this process's event loop (the
    CLI, a browser); yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
