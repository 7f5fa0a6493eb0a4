"""`/healthz` says the process is alive; `/readyz` says its database and broker answer,
and whether its pipelines flow.

`/readyz` answers 503 when the database or Kafka does not answer (the instance cannot
serve), and 200 with status `degraded` while a pipeline is stuck: a consumer or the
outbox relay failing for `STUCK_SECONDS` (see `Stall`), or events parked by the relay.
A degraded instance still answers reads and takes writes (nothing written is lost: it
waits in the outbox), so it stays in the load balancer; the alerts in deploy/ page.
"""

import asyncio
import time
from collections.abc import Awaitable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import database_reachable
from shared.metrics import PIPELINE_STALLED
from shared.tables import outbox_parked

READINESS_TIMEOUT_SECONDS = 2.0
STUCK_SECONDS = 30.0


class Stall:
    """How long a pipeline (a consumer, an outbox relay) has been failing on a batch it
    must retry; read by `/readyz`, exported as `ketnghia_pipeline_stalled`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures = 0
        self.since: float | None = None

    def failed(self) -> float:
        """Note a failure; the pause before the batch comes again (0.5 s doubling, at most
        30 s), so that a retried batch never spins."""
        self.failures += 1
        self.since = self.since or time.monotonic()
        PIPELINE_STALLED.labels(self.name).set(1)
        return min(30.0, 0.5 * 2.0 ** min(self.failures - 1, 6))

    def passed(self) -> None:
        if self.failures:
            PIPELINE_STALLED.labels(self.name).set(0)
        self.failures, self.since = 0, None

    def seconds(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since


STALLS: dict[str, Stall] = {}
"""The stall records of this process's pipelines, by name."""


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
        stuck = [s.name for s in STALLS.values() if s.seconds() >= STUCK_SECONDS]
        parked = await _parked(engine) if database else 0
        checks["pipelines"] = ("ok" if not stuck else f"stuck: {', '.join(sorted(stuck))}") + (
            f"; {parked} event(s) parked" if parked else ""
        )
        status = "not ready" if not ready else "degraded" if stuck or parked else "ready"
        return JSONResponse({"status": status, "checks": checks}, status_code=200 if ready else 503)

    return router


async def _within_timeout(check: Awaitable[bool]) -> bool:
    try:
        return bool(await asyncio.wait_for(check, READINESS_TIMEOUT_SECONDS))
    except Exception:
        return False


async def _parked(engine: AsyncEngine) -> int:
    """How many events the relay set aside; 0 if it cannot be told in time."""

    async def count() -> int:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(outbox_parked)) or 0)

    try:
        return await asyncio.wait_for(count(), READINESS_TIMEOUT_SECONDS)
    except Exception:
        return 0
