"""How long the web app takes to answer its pages, server-side, on the demo's data.

    python -m bench.web_pages [--requests 200]

The registry, the activities and the reporting services run in child processes on schemas
and topics of their own, with the demo cases and the demo activities. The web app runs in
this process and is asked over ASGI (no network, no browser: the time is the app's own
and the services' it calls), signed in as Bình Thuận's coordinator. Each page is asked
`--requests` times, one after another. Baselines in the same run: the web app's
`/healthz` (the frame alone) and the reporting service's commune report asked directly
(the heaviest call a page makes).
"""

import argparse
import asyncio
import time

import httpx
from sqlalchemy import text

from bench.activities_throughput import prepare, wait_heard
from bench.common import issuer, percentiles, signed_client, three_services
from services.activities.entrypoints.demo import load_demo as load_activities
from services.web.adapters.oidc import Tokens
from services.web.config import Settings
from services.web.entrypoints.http import create_app
from services.web.entrypoints.rendering import COOKIE
from shared.auth import Role
from shared.db import create_engine
from shared.devstack import Endpoints, provided_endpoints
from shared.devstack.signing import person

PAGES = {
    "home": "/",
    "province dashboard": "/provinces/60",
    "dashboard, mapped, 2024": "/provinces/68?mapped=true&year=2024",
    "commune": "/communes/pre-2025/23116",
    "record form": "/record",
}


async def _caught_up(database_url: str, schemas: dict[str, str]) -> None:
    """Until the reporting service has counted every activity the demo recorded."""
    activities = create_engine(database_url, schemas["activities"])
    reporting = create_engine(database_url, schemas["reporting"])
    try:
        for _attempt in range(600):
            async with activities.connect() as conn:
                recorded = await conn.scalar(text("SELECT count(*) FROM activities"))
            async with reporting.connect() as conn:
                counted = await conn.scalar(
                    text("SELECT count(DISTINCT activity_id) FROM activity_versions")
                )
            if recorded and counted == recorded:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("the reporting service did not count the demo activities")
    finally:
        await activities.dispose()
        await reporting.dispose()


async def _timed(client: httpx.AsyncClient, path: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return times


async def measure(urls: dict[str, str], requests: int) -> None:
    coordinator = person(Role.PROVINCE_COORDINATOR, ["60", "68"], name="Điều phối (bench)")
    token = issuer().token(coordinator, lifetime=3600)
    settings = Settings(
        ketnghia_registry_url=urls["registry"], ketnghia_activities_url=urls["activities"],
        ketnghia_reporting_url=urls["reporting"], auth_issuer=issuer().issuer,
        auth_jwks_url=issuer().jwks_url, log_level="WARNING",
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        principal = await app.state.verifier.verify(token)
        session = app.state.sessions.open(principal, Tokens(token, None, None, time.time() + 3600))
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://web",
                              cookies={COOKIE: session.id}, timeout=60) as web,
            signed_client(urls["reporting"], timeout=60) as reporting,
        ):  # fmt: skip
            print(f"{requests} requests per page, one after another (ms):")
            frame = await _timed(web, "/healthz", requests)
            print(f"  baseline: web /healthz          {percentiles(frame)}")
            direct = await _timed(reporting, "/reports/communes/pre-2025/23116", requests)
            print(f"  baseline: commune report (API)  {percentiles(direct)}")
            for name, path in PAGES.items():
                print(f"  {name:<30}  {percentiles(await _timed(web, path, requests))}")


async def run(endpoints: Endpoints, requests: int) -> None:
    async with three_services(endpoints) as (urls, schemas):
        await prepare(endpoints, schemas["registry"], urls["registry"])
        await wait_heard(endpoints, schemas["activities"])
        async with signed_client(urls["activities"], timeout=120) as client:
            await load_activities(client)
        await _caught_up(endpoints.database_url, schemas)
        await measure(urls, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.requests))


if __name__ == "__main__":
    main()
