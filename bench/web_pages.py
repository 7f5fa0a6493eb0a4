"""How long the web app takes to answer its pages, server-side, on the demo's data and on
a million activities.

    python -m bench.web_pages [--requests 200] [--activities 1000000]

The registry, the activities and the reporting services run in child processes on schemas
and topics of their own, with the demo cases and the demo activities. The web app runs in
this process and is asked over ASGI (no network, no browser: the time is the app's own
and the services' it calls), signed in as Bình Thuận's coordinator. Each page is asked
`--requests` times, one after another. Baselines in the same run: the web app's
`/healthz` (the frame alone) and the reporting service's commune report asked directly
(the heaviest call a page makes).

With `--activities N`, the pages are measured twice: on the demo's activities, then after
N more were counted: copies of the demo's recorded activities under new ids (same units
and values, days spread over the same year), each moved to one of its province's pre-2025
communes in turn, under an assignment of that commune's own (one the registry does not
know: the reports count its activities in the province's and the commune's figures). A
million copies put about 300,000 activities in Bình Thuận, 2,500 in each of its communes:
far more than a real province records (a commune sees a few dozen a year).
"""

import argparse
import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
from sqlalchemy import select, text

from bench.activities_throughput import prepare, wait_heard
from bench.common import issuer, percentiles, publish, signed_client, three_services
from services.activities.demo import load_demo as load_activities
from services.registry.adapters.tables import admin_units
from services.web.adapters.oidc import Tokens
from services.web.config import Settings
from services.web.entrypoints.http import create_app
from services.web.entrypoints.rendering import COOKIE
from shared.auth import Role
from shared.db import create_engine
from shared.devstack import Endpoints, provided_endpoints
from shared.devstack.signing import person
from shared.envelope import Envelope
from shared.eventstore import STORED_COLUMNS, StoredEvent
from shared.tables import events

PAGES = {
    "home": "/",
    "province dashboard": "/provinces/60",
    "dashboard, mapped, 2024": "/provinces/68?mapped=true&year=2024",
    "activities of a year (drill-down)": "/provinces/60/activities?year=2024",
    "commune": "/communes/pre-2025/23116",
    "record form": "/record",
}


async def _caught_up(database_url: str, schemas: dict[str, str], more: int = 0) -> int:
    """Until the reporting service has counted every activity the demo recorded and `more`
    besides; how many that is."""
    activities = create_engine(database_url, schemas["activities"])
    reporting = create_engine(database_url, schemas["reporting"])
    try:
        for _attempt in range(3000):
            async with activities.connect() as conn:
                recorded = await conn.scalar(text("SELECT count(*) FROM activities"))
            async with reporting.connect() as conn:
                counted = await conn.scalar(
                    text("SELECT count(DISTINCT activity_id) FROM activity_versions")
                )
            if recorded and counted == recorded + more:
                return int(counted)
            await asyncio.sleep(0.2 if not more else 2)
        raise RuntimeError("the reporting service did not count the activities")
    finally:
        await activities.dispose()
        await reporting.dispose()


async def _recorded(database_url: str, schema: str) -> list[StoredEvent]:
    """The demo's recordings, as the activities service stored them."""
    engine = create_engine(database_url, schema)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(*STORED_COLUMNS).where(events.c.type == "vn.ketnghia.activity.recorded.v1")
            )
            return [StoredEvent.from_row(row) for row in rows.mappings()]
    finally:
        await engine.dispose()


async def _communes(database_url: str, schema: str) -> dict[str, list[str]]:
    """Every province's pre-2025 communes, from the registry's administrative units."""
    engine = create_engine(database_url, schema)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(admin_units.c.province_code, admin_units.c.code).where(
                    admin_units.c.edition == "pre-2025", admin_units.c.level == "commune"
                )
            )
            communes: dict[str, list[str]] = {}
            for province, code in rows:
                communes.setdefault(province, []).append(code)
            return communes
    finally:
        await engine.dispose()


def _day(original: StoredEvent, n: int) -> str:
    """A day of the original's year, spread over the year."""
    year = int(str(original.data["occurred_on"])[:4])
    return (date(year, 1, 1) + timedelta(days=n * 7 % 365)).isoformat()


def _copies(
    recorded: list[StoredEvent], communes: dict[str, list[str]], count: int
) -> Iterator[Envelope]:
    for n in range(count):
        original = recorded[n % len(recorded)]
        activity_id = str(uuid.uuid4())
        choices = communes[original.province]
        code = choices[(n // len(recorded)) % len(choices)]
        copy = dataclasses.replace(
            original,
            event_id=uuid.uuid4(),
            stream_id=activity_id,
            version=1,
            correlation_id=uuid.uuid4(),
            partition_key=f"commune:pre-2025:{code}",
            data={**original.data, "activity_id": activity_id,
                  "assignment_id": f"bench-{code}", "occurred_on": _day(original, n),
                  "commune": {"edition": "pre-2025", "code": code}},
        )  # fmt: skip
        yield copy.to_envelope("/ketnghia/activities")


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


async def run(endpoints: Endpoints, requests: int, activities: int, keep: bool) -> None:
    async with three_services(endpoints, keep=keep) as (urls, schemas, topics):
        await prepare(endpoints, schemas["registry"], urls["registry"])
        await wait_heard(endpoints, schemas["activities"])
        async with signed_client(urls["activities"], timeout=120) as client:
            await load_activities(client)
        demo = await _caught_up(endpoints.database_url, schemas)
        print(f"On the demo's {demo} activities:")
        await measure(urls, requests)
        if not activities:
            return
        recorded = await _recorded(endpoints.database_url, schemas["activities"])
        communes = await _communes(endpoints.database_url, schemas["registry"])
        started = time.perf_counter()
        copies = _copies(recorded, communes, activities)
        await publish(endpoints.kafka(), topics["activities_topic"], copies)
        total = await _caught_up(endpoints.database_url, schemas, more=activities)
        print(
            f"On {total:,} activities ({activities:,} copies published and counted by the "
            f"reporting service in {time.perf_counter() - started:.0f} s):"
        )
        await measure(urls, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--activities", type=int, default=1_000_000, help="0: the demo only")
    parser.add_argument("--keep", action="store_true", help="leave the schemas, to look into")
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.requests, args.activities, args.keep))


if __name__ == "__main__":
    main()
