"""`/healthz` says the process is alive; `/readyz` says its database and broker answer."""

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import database_reachable

READINESS_TIMEOUT_SECONDS = 2.0


def health_router(engine: AsyncEngine, broker: KafkaBroker) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        database, kafka = await asyncio.gather(
            _within_timeout(database_reachable(engine)),
            _within_timeout(broker.ping(timeout=READINESS_TIMEOUT_SECONDS)),
        )
        checks = {
            "database": "ok" if database else "unreachable",
            "kafka": "ok" if kafka else "unreachable",
        }
        ready = database and kafka
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return router


async def _within_timeout(check: Awaitable[bool]) -> bool:
    try:
        return bool(await asyncio.wait_for(check, READINESS_TIMEOUT_SECONDS))
    except Exception:
        return False
